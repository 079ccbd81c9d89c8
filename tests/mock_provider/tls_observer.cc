#include "tls_observer.h"

#include <netinet/in.h>
#include <sys/socket.h>

namespace otp::mock {
namespace {

int observer_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return -1;
}

bool is_connected(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
}

}  // namespace

void TlsObserver::attach(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, observer_index(), this);
  SSL_CTX_set_info_callback(ctx, &TlsObserver::on_info);
}

void TlsObserver::reset_counts() {
  handshakes_ = 0;
  connections_ = 0;
}

// OpenSSL 3 signals HANDSHAKE_START once per handshake (no longer for
// TLS 1.3 post-handshake messages), and httplib calls SSL_accept for every
// accepted socket, so START counts connections and DONE successful ones.
void TlsObserver::on_info(const SSL* ssl, int where, int) {
  auto* self = static_cast<TlsObserver*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), observer_index()));
  if (self == nullptr) return;
  if (where & SSL_CB_HANDSHAKE_START) {
    ++self->connections_;
    const int fd = SSL_get_fd(ssl);
    const std::lock_guard<std::mutex> lock(self->mutex_);
    if (fd >= 0) self->sockets_.insert(fd);
  }
  if (where & SSL_CB_HANDSHAKE_DONE) ++self->handshakes_;
}

void TlsObserver::shutdown_connections(int port) {
  const std::lock_guard<std::mutex> lock(mutex_);
  for (int fd : sockets_)
    if (local_port(fd) == port && is_connected(fd)) ::shutdown(fd, SHUT_RDWR);
  sockets_.clear();
}

}  // namespace otp::mock
