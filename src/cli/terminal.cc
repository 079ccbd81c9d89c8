#include "cli/terminal.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace otp::cli {
namespace {

// Turns terminal echo off while alive (when stdin is a terminal at all).
class NoEcho {
 public:
  NoEcho() {
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;
  ~NoEcho() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }

 private:
  termios saved_{};
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
