#include "tls_cutter.h"

#include "trap_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace otp::testing {
namespace {

constexpr int kWaitMs = 5000;

// Reads one whole TLS record (5-byte header, then its length) from fd.
bool read_record(int fd, std::string& record) {
  record.clear();
  std::size_t want = 5;
  while (record.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kWaitMs) <= 0) return false;
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, std::min(sizeof buffer, want - record.size()), 0);
    if (n <= 0) return false;
    record.append(buffer, static_cast<std::size_t>(n));
    if (want == 5 && record.size() == 5)
      want += (static_cast<unsigned char>(record[3]) << 8) | static_cast<unsigned char>(record[4]);
  }
  return true;
}

bool send_all(int fd, const std::string& data) {
  return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// close() that sends a TCP reset instead of a FIN.
void reset(int fd) {
  const linger abort{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  ::close(fd);
}

}  // namespace

TlsCutter::TlsCutter(int upstream_port) : upstream_port_(upstream_port) {
  fd_ = listen_on_loopback(port_);
  thread_ = std::thread([this] {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c >= 0) relay(c);
    }
  });
}

void TlsCutter::relay(int client) const {
  const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
  std::string record;
  if (upstream >= 0 && ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      read_record(client, record) && record[0] == 22 && send_all(upstream, record) && read_record(upstream, record) &&
      record[0] == 22 && send_all(client, record))
    ++cut_;
  if (upstream >= 0) reset(upstream);
  reset(client);
}

TlsCutter::~TlsCutter() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

}  // namespace otp::testing
