// Network namespaces a test makes (root only), so that hosts of a fleet
// and their database each have a network of their own and reach one
// another over veth pairs, as machines on a LAN do: `ip netns add` (a
// name under /run/netns), removed again by the destructor.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <thread>

namespace otp::testing {

class NetNs {
 public:
  // Why namespaces cannot be made here (not root; no `ip`), or nullopt.
  static std::optional<std::string> unavailable();

  // A new namespace named `name` plus this process's pid (so that two
  // test programs never share one), its loopback up. Throws on failure.
  explicit NetNs(const std::string& name);
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;
  ~NetNs();

  // Removes the namespaces whose name starts with `prefix` and whose test
  // program (the pid in the name) is gone, killed before its destructors
  // ran, with what still runs in them.
  static void sweep(const std::string& prefix);

  const std::string& name() const { return name_; }
  int fd() const { return fd_; }

  // Runs `ip ARGS` inside this namespace; throws if it fails.
  void ip(const std::string& args) const;

 private:
  std::string name_;
  int fd_ = -1;
};

// A veth pair: `a_if` with a_address (CIDR) in namespace `a`, `b_if` with
// b_address in `b` (nullptr: the calling process's own), both up.
void connect_namespaces(const NetNs* a, const std::string& a_if, const std::string& a_address, const NetNs* b,
                        const std::string& b_if, const std::string& b_address);

// Whether an IPv4 address of this namespace starts with `prefix` ("10.113.").
bool address_in_use(const std::string& prefix);

// The calling thread in `ns` until destroyed: sockets it makes meanwhile
// belong to `ns` (and stay there), as do threads it starts.
class InNamespace {
 public:
  explicit InNamespace(const NetNs& ns);
  InNamespace(const InNamespace&) = delete;
  InNamespace& operator=(const InNamespace&) = delete;
  ~InNamespace();

 private:
  int home_ = -1;
};

// A TCP relay from 127.0.0.1:port() inside `ns` to 127.0.0.1:upstream_port
// in the namespace that made it: a host's own loopback leads to a server
// of the test's (the mock provider), bytes passed as they are (TLS end to
// end).
class NamespaceRelay {
 public:
  NamespaceRelay(const NetNs& ns, int upstream_port);
  NamespaceRelay(const NamespaceRelay&) = delete;
  NamespaceRelay& operator=(const NamespaceRelay&) = delete;
  ~NamespaceRelay();
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  int upstream_port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace otp::testing
