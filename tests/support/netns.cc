#include "netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace otp::testing {
namespace {

constexpr char kIp[] = "/sbin/ip";  // (iproute2's path, merged /usr or not)

std::runtime_error failure(const std::string& what) { return std::runtime_error("network namespaces for tests: " + what); }

// Runs `ip` with `args` (split at spaces), in the caller's environment minus
// the test's preloaded wrappers; throws if it fails.
void run_ip(const std::string& args) {
  const std::string command = "env -u LD_PRELOAD " + std::string(kIp) + " " + args + " 2>&1";
  const int rc = std::system(command.c_str());
  if (rc != 0) throw failure("`ip " + args + "` failed (" + std::to_string(rc) + ")");
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

// Passes bytes both ways until either side closes or `stop` is set.
void pump(int a, int b, const std::atomic<bool>& stop) {
  char buffer[16384];
  while (!stop) {
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (::poll(p, 2, 50) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::recv(p[i].fd, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      const int to = i == 0 ? b : a;
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t m = ::send(to, buffer + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
        if (m <= 0) return;
        sent += m;
      }
    }
  }
}

}  // namespace

std::optional<std::string> NetNs::unavailable() {
  if (::geteuid() != 0) return std::string("not root: network namespaces need CAP_SYS_ADMIN");
  if (::access(kIp, X_OK) != 0) return std::string("no ") + kIp + " (iproute2; scripts/test installs it)";
  return std::nullopt;
}

NetNs::NetNs(const std::string& name) : name_(name + "-" + std::to_string(::getpid())) {
  run_ip("netns add " + name_);
  try {
    fd_ = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw failure("cannot open /run/netns/" + name_);
    ip("link set lo up");
  } catch (...) {
    if (fd_ >= 0) ::close(fd_);
    run_ip("netns del " + name_);
    throw;
  }
}

void NetNs::sweep(const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    const std::string name = entry.path().filename();
    const auto dash = name.rfind('-');
    if (name.rfind(prefix, 0) != 0 || dash == std::string::npos ||
        name.find_first_not_of("0123456789", dash + 1) != std::string::npos || dash + 1 == name.size())
      continue;
    const pid_t owner = static_cast<pid_t>(std::stol(name.substr(dash + 1)));
    if (::kill(owner, 0) == 0 || errno != ESRCH) continue;  // its test program still runs
    // What still runs in it (a server the dead program started) goes first.
    if (FILE* pids = ::popen(("env -u LD_PRELOAD " + std::string(kIp) + " netns pids " + name).c_str(), "r")) {
      for (int pid = 0; std::fscanf(pids, "%d", &pid) == 1;) ::kill(pid, SIGKILL);
      ::pclose(pids);
    }
    try {
      run_ip("netns del " + name);
    } catch (...) {
    }
  }
}

NetNs::~NetNs() {
  if (fd_ >= 0) ::close(fd_);
  try {
    run_ip("netns del " + name_);
  } catch (...) {
  }
}

void NetNs::ip(const std::string& args) const { run_ip("-n " + name_ + " " + args); }

void connect_namespaces(const NetNs* a, const std::string& a_if, const std::string& a_address, const NetNs* b,
                        const std::string& b_if, const std::string& b_address) {
  run_ip("link add " + a_if + " type veth peer name " + b_if);
  try {
    for (const auto& [ns, name, address] : {std::tuple{a, a_if, a_address}, std::tuple{b, b_if, b_address}}) {
      const std::string in = ns != nullptr ? "-n " + ns->name() + " " : "";
      if (ns != nullptr) run_ip("link set " + name + " netns " + ns->name());
      run_ip(in + "addr add " + address + " dev " + name);
      run_ip(in + "link set " + name + " up");
    }
  } catch (...) {
    // Deleting either end deletes the pair, wherever it got to.
    for (const auto& [ns, name] : {std::pair{a, a_if}, std::pair{b, b_if}}) {
      try {
        run_ip((ns != nullptr ? "-n " + ns->name() + " " : std::string()) + "link del " + name + " 2>/dev/null");
        break;
      } catch (...) {
      }
      try {
        run_ip("link del " + name + " 2>/dev/null");
        break;
      } catch (...) {
      }
    }
    throw;
  }
}

bool address_in_use(const std::string& prefix) {
  FILE* out = ::popen(("env -u LD_PRELOAD " + std::string(kIp) + " -o -4 addr show").c_str(), "r");
  if (out == nullptr) return true;
  bool used = false;
  char line[512];
  while (std::fgets(line, sizeof line, out) != nullptr) used = used || std::strstr(line, (" " + prefix).c_str()) != nullptr;
  ::pclose(out);
  return used;
}

InNamespace::InNamespace(const NetNs& ns) {
  home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home_ < 0 || ::setns(ns.fd(), CLONE_NEWNET) != 0) {
    if (home_ >= 0) ::close(home_);
    throw failure("cannot enter " + ns.name());
  }
}

InNamespace::~InNamespace() {
  if (::setns(home_, CLONE_NEWNET) != 0) std::abort();  // (a test thread left elsewhere would lie about everything after)
  ::close(home_);
}

NamespaceRelay::NamespaceRelay(const NetNs& ns, int upstream_port) : upstream_port_(upstream_port) {
  {
    InNamespace there(ns);  // the listening socket is made in ns; the thread below is not
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (fd_ >= 0) ::close(fd_);
      throw failure("cannot listen in " + ns.name());
    }
    port_ = ntohs(a.sin_port);
  }
  thread_ = std::thread([this] {
    std::vector<std::thread> connections;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      connections.emplace_back([this, client] {
        const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const sockaddr_in a = loopback(upstream_port_);
        if (upstream >= 0 && ::connect(upstream, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0)
          pump(client, upstream, stop_);
        if (upstream >= 0) ::close(upstream);
        ::close(client);
      });
    }
    for (auto& c : connections) c.join();
  });
}

NamespaceRelay::~NamespaceRelay() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

}  // namespace otp::testing
