#include "state_service_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace otp::testing {
namespace {

// Something listens at path (a socket file alone may be a stopped one's).
bool listening(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (fd < 0 || path.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
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
  for (int i = 0; i < 2000 && !listening(socket_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (!listening(socket_)) {
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
