#include "trap_listener.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "http/url_policy.h"

namespace otp::testing {

int listen_on_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

std::unique_ptr<TrapListener> TrapListener::on_privileged_port(Mode mode) {
  for (int port = http::unprivileged_port_start() - 1; port > 0; --port) {
    try {
      return std::make_unique<TrapListener>(mode, port);
    } catch (const std::runtime_error&) {
      if (::geteuid() != 0) return nullptr;
    }
  }
  return nullptr;
}

TrapListener::TrapListener(Mode mode, int port) : port_(port) {
  fd_ = listen_on_loopback(port_);
  thread_ = std::thread([this, mode] {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      if (mode == Mode::Hold) held_.push_back(c);
      else ::close(c);
    }
  });
}

TrapListener::~TrapListener() {
  stop_ = true;
  thread_.join();
  for (int c : held_) ::close(c);
  ::close(fd_);
}

}  // namespace otp::testing
