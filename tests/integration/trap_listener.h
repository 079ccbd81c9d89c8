// A TCP listener on 127.0.0.1 that only counts connections: set as a proxy
// in the environment, it proves the module never used it. In "hold" mode it
// keeps each connection open and silent: a server that accepts and never
// answers (not even the TLS handshake).
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace otp::testing {

// A listening TCP socket on 127.0.0.1 at `port`, or at a free port when it
// is 0 (set in port). Throws std::runtime_error.
int listen_on_loopback(int& port);

class TrapListener {
 public:
  enum class Mode { Close, Hold };
  explicit TrapListener(Mode mode = Mode::Close, int port = 0);
  // A listener on a free port below the kernel's unprivileged port start
  // (needs root); nullptr when there is none this process may bind.
  static std::unique_ptr<TrapListener> on_privileged_port(Mode mode = Mode::Close);
  TrapListener(const TrapListener&) = delete;
  TrapListener& operator=(const TrapListener&) = delete;
  ~TrapListener();
  int port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
  std::vector<int> held_;  // only the listener thread touches it until join
  std::thread thread_;
};

}  // namespace otp::testing
