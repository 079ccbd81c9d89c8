#include "config/cidr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>

namespace otp::config {
namespace {

// Parses an address into 4 or 16 bytes; returns the family or 0.
int parse_address(const std::string& text, std::array<unsigned char, 16>& out) {
  out.fill(0);
  if (inet_pton(AF_INET, text.c_str(), out.data()) == 1) return AF_INET;
  if (inet_pton(AF_INET6, text.c_str(), out.data()) == 1) return AF_INET6;
  return 0;
}

}  // namespace

bool is_ip_address(std::string_view text) {
  std::array<unsigned char, 16> bytes{};
  return parse_address(std::string(text), bytes) != 0;
}

std::string canonical_address(std::string_view text) {
  std::array<unsigned char, 16> bytes{};
  const int family = parse_address(std::string(text), bytes);
  char out[INET6_ADDRSTRLEN] = {0};
  if (family == 0 || inet_ntop(family, bytes.data(), out, sizeof out) == nullptr) return std::string(text);
  return out;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  Cidr c;
  c.family = parse_address(std::string(text.substr(0, slash)), c.address);
  if (c.family == 0) return std::nullopt;
  const int max = c.family == AF_INET ? 32 : 128;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    const std::string bits(text.substr(slash + 1));
    if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    c.prefix = std::atoi(bits.c_str());
    if (c.prefix > max) return std::nullopt;
  }
  return c;
}

bool Cidr::contains(std::string_view text) const {
  std::array<unsigned char, 16> bytes{};
  int fam = parse_address(std::string(text), bytes);
  // An IPv4-mapped IPv6 address (::ffff:10.1.2.3) matches IPv4 networks.
  if (fam == AF_INET6 && family == AF_INET && bytes[10] == 0xff && bytes[11] == 0xff &&
      std::all_of(bytes.begin(), bytes.begin() + 10, [](unsigned char b) { return b == 0; })) {
    std::copy(bytes.begin() + 12, bytes.end(), bytes.begin());
    fam = AF_INET;
  }
  if (fam != family) return false;
  for (int bit = 0; bit < prefix; bit += 8) {
    const int bits = prefix - bit >= 8 ? 8 : prefix - bit;
    const auto mask = static_cast<unsigned char>(0xFF << (8 - bits));
    if ((bytes[bit / 8] & mask) != (address[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace otp::config
