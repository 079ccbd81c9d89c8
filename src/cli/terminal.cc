#include "cli/terminal.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iterator>
#include <string>

namespace otp::cli {
namespace {

// The settings to put back if a signal ends the program while echo is off
// (Ctrl-C at the code prompt would otherwise leave the shell without echo).
termios g_saved_terminal{};
volatile sig_atomic_t g_echo_off = 0;
constexpr int kEndingSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

extern "C" void restore_terminal_and_die(int sig) {
  if (g_echo_off) tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_terminal);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Turns terminal echo off while alive (when stdin is a terminal at all).
class NoEcho {
 public:
  NoEcho() {
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_saved_terminal) != 0) return;
    struct sigaction handler{};
    handler.sa_handler = restore_terminal_and_die;
    sigemptyset(&handler.sa_mask);
    for (std::size_t i = 0; i < std::size(kEndingSignals); ++i) sigaction(kEndingSignals[i], &handler, &previous_[i]);
    termios quiet = g_saved_terminal;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    g_echo_off = 1;
    active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    if (!active_) restore();
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;
  ~NoEcho() {
    if (active_) restore();
  }

 private:
  void restore() {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_terminal);
    g_echo_off = 0;
    for (std::size_t i = 0; i < std::size(kEndingSignals); ++i) sigaction(kEndingSignals[i], &previous_[i], nullptr);
  }

  struct sigaction previous_[std::size(kEndingSignals)]{};
  bool active_ = false;
};

// One line from stdin without stdio's buffer (it would keep a copy of the code).
std::optional<Secret> read_line() {
  Secret line;
  char c = 0;
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n <= 0) return line.empty() ? std::nullopt : std::optional<Secret>(std::move(line));
    if (c == '\n') return line;
    if (line.size() < 4096) line.mutable_value() += c;
  }
}

}  // namespace

std::optional<Secret> TerminalConversation::ask(std::string_view prompt, bool echo) {
  // What follows starts on a new line: unless a terminal echoed the user's
  // Enter, nothing else ends the prompt's line.
  const bool enter_echoed = echo && isatty(STDIN_FILENO);
  std::optional<Secret> answer;
  if (echo) {
    out_ << prompt << std::flush;
    answer = read_line();
  } else {
    // Echo off before the prompt appears: TCSAFLUSH drops what was typed
    // before, never what is typed after it.
    NoEcho quiet;
    out_ << prompt << std::flush;
    answer = read_line();
  }
  if (!enter_echoed) out_ << "\n" << std::flush;
  return answer;
}

void TerminalConversation::info(std::string_view text) { out_ << text << "\n" << std::flush; }
void TerminalConversation::error(std::string_view text) { out_ << text << "\n" << std::flush; }

void StreamLogger::log(int priority, const std::string& message) {
  static constexpr const char* kLevels[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
  const char* level = priority >= 0 && priority <= 7 ? kLevels[priority] : "?";
  out_ << "  log(" << level << "): " << message << "\n" << std::flush;
}

}  // namespace otp::cli
