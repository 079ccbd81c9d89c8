// A TCP relay on 127.0.0.1 in front of a real TLS server that breaks the
// handshake the way a failing or hostile server does: it passes the
// client's first record (ClientHello) on, passes back the server's first
// record (ServerHello) and then resets both connections. The client has by
// then seen a server that began a TLS session and aborted it.
#pragma once

#include <atomic>
#include <thread>

namespace otp::testing {

class TlsCutter {
 public:
  explicit TlsCutter(int upstream_port);
  TlsCutter(const TlsCutter&) = delete;
  TlsCutter& operator=(const TlsCutter&) = delete;
  ~TlsCutter();
  int port() const { return port_; }
  // Connections whose ServerHello was passed on before the reset.
  int cut() const { return cut_.load(); }

 private:
  void relay(int client) const;

  int fd_ = -1;
  int port_ = 0;
  int upstream_port_ = 0;
  mutable std::atomic<int> cut_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace otp::testing
