// What a login for a user would do, decided by the module's own code
// (scope, enrolment, channel, the provider's steps) without sending
// anything: `pam-otp test USER --explain`.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/loader.h"
#include "flow/login.h"
#include "flow/sources.h"
#include "flow/user_directory.h"

namespace otp::flow {

struct Explanation {
  std::vector<std::pair<std::string, std::string>> lines;  // label, text
  bool code_would_be_sent = false;
  bool refused = false;  // no code, and no login either (unenrolled = "deny", a channel the provider lacks)
};

// `lookup` asks the directory when the configuration has one (it is asked:
// a lookup sends nothing to anyone's phone).
Explanation explain(const config::Loaded& loaded, const LoginRequest& request, UserDirectory& directory,
                    const DirectoryLookup& lookup);

}  // namespace otp::flow
