// Unpredictable codes and identifiers from OpenSSL's CSPRNG: tests of a
// security module should not get used to guessable codes.
#pragma once

#include <string>

namespace otp::mock {

// length decimal digits, each uniform. Throws std::runtime_error.
std::string random_digits(int length);

// 2 * bytes lower-case hex characters. Throws std::runtime_error.
std::string random_hex(int bytes);

}  // namespace otp::mock
