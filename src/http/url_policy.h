// Which URLs the module may talk to: https anywhere, http only to loopback
// (for development and tests).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace otp::http {

struct UrlParts {
  std::string scheme;  // lower case
  std::string host;
};

// A strict subset of RFC 3986 (no percent-encoding or other oddities in the
// host), so that libcurl reads an accepted URL the same way: the transport
// checks that it does before it connects. nullopt when it is not such a URL.
std::optional<UrlParts> parse_url(std::string_view url);

bool is_loopback_host(std::string_view host);

// The URL with any user information ("user:password@") replaced by
// "<redacted>@", for showing and logging; other text is returned unchanged.
std::string redact_url(std::string_view url);

// nullopt when the URL is allowed, otherwise why not.
std::optional<std::string> url_problem(std::string_view url);

}  // namespace otp::http
