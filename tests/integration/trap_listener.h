// A TCP listener on 127.0.0.1 that only counts connections: set as a proxy
// in the environment, it proves the module never used it. In "hold" mode it
// keeps each connection open and silent: a server that accepts and never
// answers (not even the TLS handshake).
#pragma once

#include <atomic>
#include <thread>
#include <vector>

namespace otp::testing {

// A listening TCP socket on 127.0.0.1 at a free port (set in port). Throws
// std::runtime_error.
int listen_on_loopback(int& port);

class TrapListener {
 public:
  enum class Mode { Close, Hold };
  explicit TrapListener(Mode mode = Mode::Close);
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
