// IPv4 and IPv6 networks in CIDR notation, for exempt_networks.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace otp::config {

// Is the text an IPv4 or IPv6 address (not a host name)?
bool is_ip_address(std::string_view text);
// An address in its one written form (inet_ntop's: "2001:db8::1" for
// "2001:DB8:0::1"); any other text as it is.
std::string canonical_address(std::string_view text);

struct Cidr {
  int family = 0;  // AF_INET or AF_INET6
  std::array<unsigned char, 16> address{};
  int prefix = 0;

  // "10.0.0.0/8", "2001:db8::/32", or a single address (full prefix).
  static std::optional<Cidr> parse(std::string_view text);
  // Is the textual address inside? A host name or an empty string never is.
  bool contains(std::string_view text) const;
};

}  // namespace otp::config
