// Watches the server's TLS connections through OpenSSL's info callback:
// counts them (so tests can prove keep-alive reuse) and remembers their
// sockets (so stop() can end idle keep-alive connections at once instead of
// waiting out httplib's keep-alive timeout).
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <mutex>
#include <set>

namespace otp::mock {

class TlsObserver {
 public:
  // ctx must not outlive this object.
  void attach(SSL_CTX* ctx);

  int handshakes() const { return handshakes_.load(); }   // completed
  int connections() const { return connections_.load(); }  // started
  void reset_counts();

  // Shuts down every remembered socket that is still a connection accepted
  // on local `port` (a closed descriptor may have been reused since).
  void shutdown_connections(int port);

 private:
  static void on_info(const SSL* ssl, int where, int ret);

  std::atomic<int> handshakes_{0};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::set<int> sockets_;
};

}  // namespace otp::mock
