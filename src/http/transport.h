// The HTTP exchange as the rest of the module sees it: one request in, one
// response (or a classified failure) out. CurlTransport is the real one;
// tests use a fake.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/secret.h"

namespace otp::http {

// The defaults of the timeout and connect_timeout keys.
inline constexpr std::chrono::seconds kDefaultTimeout{10};
inline constexpr std::chrono::seconds kDefaultConnectTimeout{3};

struct Request {
  std::string method = "POST";
  std::string url;
  // Header values may be credentials, so they are held as secrets.
  std::vector<std::pair<std::string, Secret>> headers;
  Secret body;
  std::chrono::milliseconds timeout{kDefaultTimeout};  // the whole exchange
  std::chrono::milliseconds connect_timeout{kDefaultConnectTimeout};
};

enum class Failure {
  None,
  // Nothing was asked of the provider: our own policy refused the URL
  // (scheme, host), or this machine could not make the exchange (no memory,
  // descriptors or threads; our client certificate cannot be used).
  Refused,
  Connect,    // DNS, TCP connect, proxy
  // Anything that went wrong between the TCP connection to the provider and
  // a verified TLS session: a certificate, host name or pin that fails
  // verification, a handshake the peer broke or aborted, a protocol or
  // cipher we refuse. What an on-path attacker produces (docs/design.md).
  Untrusted,
  Timeout,
  TooLarge,   // body over the cap
  Protocol,   // reset, truncated, not HTTP
};

std::string_view failure_name(Failure f);

using Headers = std::vector<std::pair<std::string, std::string>>;  // names in lower case

// The last value of a header (case-insensitive), if present.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);

struct Response {
  Failure failure = Failure::None;
  std::string error;  // libcurl's explanation, for the log
  // Connect: the errno of this transfer's own failed connection to the
  // provider (ECONNREFUSED, ...); 0 when unknown, through a proxy, or the
  // same as libcurl kept from before.
  int os_error = 0;
  long status = 0;
  Headers headers;
  std::string body;
  std::chrono::microseconds elapsed{0};  // provider time spent in this exchange
  bool new_connection = false;           // a TCP connection was opened for it

  // The last value of a header (case-insensitive), if present.
  std::optional<std::string> header(std::string_view name) const;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Response perform(const Request& request) = 0;
};

}  // namespace otp::http
