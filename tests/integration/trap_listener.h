// A TCP listener on 127.0.0.1 that only counts connections: set as a proxy
// in the environment, it proves the module never used it.
#pragma once

#include <atomic>
#include <thread>

namespace otp::testing {

class TrapListener {
 public:
  TrapListener();
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
  std::thread thread_;
};

}  // namespace otp::testing
