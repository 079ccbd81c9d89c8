// A state service (state-helper --serve) run by a test, for as long as the
// object lives: the real program, on a socket in the test's directory.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace otp::testing {

class StateServiceProcess {
 public:
  // Starts it on `state_file` at `socket` with `args` added, and waits until
  // it accepts connections; throws std::runtime_error when it does not in 10 s.
  StateServiceProcess(const std::string& state_file, const std::string& socket, std::vector<std::string> args = {});
  StateServiceProcess(const StateServiceProcess&) = delete;
  StateServiceProcess& operator=(const StateServiceProcess&) = delete;
  ~StateServiceProcess() { stop(); }

  void stop();  // SIGTERM, and reaped
  pid_t pid() const { return pid_; }

 private:
  std::string socket_;
  pid_t pid_ = -1;
};

}  // namespace otp::testing
