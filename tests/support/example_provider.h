// The generic provider description of the mock's own API, taken from the
// shipped example conf/pam_otp.conf, so the example cannot drift from what
// the tests prove.
#pragma once

#include <string>

#include "base/problem.h"

namespace otp::testing {

// conf/pam_otp.conf as shipped.
std::string example_config();

// Its [provider.mock] table and steps, with base_url replaced by
// base_url_toml (a TOML string or array).
std::string mock_provider_toml(const std::string& base_url_toml);

// Every problem of a configuration load, a line each, for failure messages
// and assertions.
std::string problem_lines(const Problems& problems);

}  // namespace otp::testing
