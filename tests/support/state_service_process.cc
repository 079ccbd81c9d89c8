#include "state_service_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace otp::testing {
namespace {

bool is_socket(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

StateServiceProcess::StateServiceProcess(const std::string& state_file, const std::string& socket,
                                         std::vector<std::string> args)
    : socket_(socket) {
  std::vector<std::string> words = {PAM_OTP_STATE_HELPER_PATH, "--serve", state_file, "--socket", socket};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  if (::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot run " + words[0]);
  for (int i = 0; i < 2000 && !is_socket(socket_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (!is_socket(socket_)) {
    stop();
    throw std::runtime_error("the state service did not start at " + socket_);
  }
}

void StateServiceProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace otp::testing
