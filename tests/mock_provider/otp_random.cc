#include "otp_random.h"

#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace otp::mock {
namespace {

std::vector<unsigned char> random_bytes(std::size_t n) {
  std::vector<unsigned char> buf(n);
  if (n > 0 && RAND_bytes(buf.data(), static_cast<int>(n)) != 1)
    throw std::runtime_error("otp-mock: RAND_bytes failed");
  return buf;
}

}  // namespace

std::string random_digits(int length) {
  std::string out;
  while (out.size() < static_cast<std::size_t>(length)) {
    for (unsigned char b : random_bytes(static_cast<std::size_t>(length))) {
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
  for (unsigned char b : random_bytes(static_cast<std::size_t>(bytes))) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

}  // namespace otp::mock
