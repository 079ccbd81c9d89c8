// Unpredictable codes and identifiers from OpenSSL's CSPRNG: tests of a
// security module should not get used to guessable codes.
#pragma once

#include <cstddef>
#include <string>

namespace otp::mock {

// n bytes. Throws std::runtime_error.
std::string random_bytes(std::size_t n);

// length decimal digits, each uniform. Throws std::runtime_error.
std::string random_digits(int length);

// 2 * bytes lower-case hex characters. Throws std::runtime_error.
std::string random_hex(int bytes);

}  // namespace otp::mock
