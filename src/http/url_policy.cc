#include "http/url_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "base/text.h"

namespace otp::http {
namespace {

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

// RFC 3986's unreserved characters: a host name here is letters, digits and
// "-._~"; percent-encoding and sub-delimiters are refused.
bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

// A last label of digits (or 0x and hex digits) makes libcurl read the host
// as an IPv4 address in any of its old forms (127.1, 0x7f.0.0.1, 2130706433);
// only the dotted quad is taken, which reads the same everywhere.
bool numeric_label(std::string_view label) {
  if (label.starts_with("0x") || label.starts_with("0X")) {
    label.remove_prefix(2);
    return std::all_of(label.begin(), label.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  }
  return !label.empty() && std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool plain_ipv4_or_name(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  const auto dot = host.rfind('.');
  if (!numeric_label(dot == std::string_view::npos ? host : host.substr(dot + 1))) return true;
  in_addr v4{};
  return inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1;
}

bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  for (char c : port)
    if (c < '0' || c > '9') return false;
  return std::stoul(std::string(port)) <= 65535;
}

// "[v6]" or a host name, and the port when one is written (0 when not);
// nullopt when neither.
std::optional<std::pair<std::string, int>> parse_host(std::string_view hostport) {
  std::string_view host = hostport, port;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = hostport.substr(0, close + 1);
    const std::string inside(hostport.substr(1, close - 1));
    in6_addr v6{};
    if (inet_pton(AF_INET6, inside.c_str(), &v6) != 1) return std::nullopt;
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return std::nullopt;
      port = hostport.substr(close + 2);
      if (!valid_port(port)) return std::nullopt;
    }
  } else {
    if (const auto colon = hostport.find(':'); colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      port = hostport.substr(colon + 1);
      if (!valid_port(port)) return std::nullopt;
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_host_char) || !plain_ipv4_or_name(host))
      return std::nullopt;
  }
  return std::make_pair(to_lower(host), port.empty() ? 0 : std::stoi(std::string(port)));
}

int default_port(std::string_view scheme) { return scheme == "https" ? 443 : scheme == "http" ? 80 : 0; }

}  // namespace

// Without libcurl: the module loads it only when a code must be sent
// (docs/design.md, "The HTTP plugin").
std::optional<UrlParts> parse_url(std::string_view url) {
  for (char c : url)
    if (c <= ' ' || c > '~' || c == '\\') return std::nullopt;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  const std::string_view scheme = url.substr(0, sep);
  if (std::isalpha(static_cast<unsigned char>(scheme[0])) == 0 || !std::all_of(scheme.begin(), scheme.end(), is_scheme_char))
    return std::nullopt;
  const std::size_t start = sep + 3;
  std::string_view authority = url.substr(start, std::min(url.find_first_of("/?#", start), url.size()) - start);
  if (const auto at = authority.find('@'); at != std::string_view::npos) {
    if (authority.find('@', at + 1) != std::string_view::npos) return std::nullopt;
    authority.remove_prefix(at + 1);
  }
  auto host = parse_host(authority);
  if (!host) return std::nullopt;
  UrlParts parts{to_lower(scheme), std::move(host->first), host->second};
  if (parts.port == 0) parts.port = default_port(parts.scheme);
  return parts;
}

// Everything from the authority's start to the last '@' of the whole text:
// a password may hold an unencoded '@', '/' or '?' (then the URL does not
// parse, and the error message must not show it either), and a text with
// no scheme ("user:pass@proxy:3128") is read from its start.
std::string redact_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto at = url.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  return std::string(url.substr(0, start)) + "<redacted>" + std::string(url.substr(at));
}

std::optional<std::string> url_problem(std::string_view url, int unprivileged_start) {
  const auto parts = parse_url(url);
  const std::string shown = "'" + redact_url(url) + "'";
  if (!parts) return shown + " is not a valid URL";
  if (parts->scheme == "https") return std::nullopt;
  if (parts->scheme != "http") return shown + " has scheme '" + parts->scheme + "'; only https:// is allowed";
  if (!is_loopback_host(parts->host))
    return shown + " uses http:// to a host that is not loopback; only https:// is allowed "
           "(http:// is accepted for 127.0.0.0/8, ::1 and localhost only)";
  // Without TLS nothing proves who answers: whoever can bind the port (any
  // local user, while the real service is down) would approve every code
  // and read the API key.
  if (parts->port >= unprivileged_start)
    return shown + " uses http:// to port " + std::to_string(parts->port) + ", which any local user can bind (ports from " +
           std::to_string(unprivileged_start) + " up: /proc/sys/net/ipv4/ip_unprivileged_port_start); use https://, "
           "or a port below " + std::to_string(unprivileged_start);
  return std::nullopt;
}

}  // namespace otp::http
