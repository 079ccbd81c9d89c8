// Small things every server a test starts needs (PostgreSQL, slapd).
#pragma once

#include <string>

namespace otp::testing {

// A TCP port on 127.0.0.1 that nothing listens on now. Throws.
int free_loopback_port();

// `length` random characters from [a-z0-9]: passwords of test servers.
std::string random_text(int length = 24);

// The whole file, or "" when it cannot be read (a server's log).
std::string read_text(const std::string& path);

}  // namespace otp::testing
