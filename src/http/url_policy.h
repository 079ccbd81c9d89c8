// Which URLs the module may talk to: https anywhere; http only to a
// loopback port that only root can bind (a local provider without TLS).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/address.h"

namespace otp::http {

struct UrlParts {
  std::string scheme;  // lower case
  std::string host;
  int port = 0;        // as written, else the scheme's (80, 443); 0 for other schemes
};

// A strict subset of RFC 3986 (no percent-encoding or other oddities in the
// host), so that libcurl reads an accepted URL the same way: the transport
// checks that it does before it connects. nullopt when it is not such a URL.
std::optional<UrlParts> parse_url(std::string_view url);

// The URL with any user information ("user:password@") replaced by
// "<redacted>@", for showing and logging, whether or not the URL parses;
// text without an '@' is returned unchanged.
std::string redact_url(std::string_view url);

// (base/address.h, where the store's connection policy finds them too.)
using ::otp::is_loopback_host;
using ::otp::unprivileged_port_start;

// nullopt when the URL is allowed, otherwise why not. http:// must go to
// loopback and to a port below unprivileged_start.
std::optional<std::string> url_problem(std::string_view url, int unprivileged_start = unprivileged_port_start());

}  // namespace otp::http
