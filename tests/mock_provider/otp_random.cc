#include "otp_random.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace otp::mock {

std::string random_bytes(std::size_t n) {
  std::string buf(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("otp-mock: RAND_bytes failed");
  return buf;
}

std::string random_digits(int length) {
  std::string out;
  while (out.size() < static_cast<std::size_t>(length)) {
    for (const char c : random_bytes(static_cast<std::size_t>(length))) {
      const auto b = static_cast<unsigned char>(c);
      // 250 is the largest multiple of 10 below 256: rejecting the rest
      // keeps every digit equally likely.
      if (b < 250 && out.size() < static_cast<std::size_t>(length))
        out.push_back(static_cast<char>('0' + b % 10));
    }
  }
  return out;
}

std::string random_hex(int bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : random_bytes(static_cast<std::size_t>(bytes))) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

}  // namespace otp::mock
