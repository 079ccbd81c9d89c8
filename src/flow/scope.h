// Is this login one pam_otp should ask a code for? (docs/design.md, "The
// login flow", step 4)
// exempt_services (PAM_SERVICE), exempt_networks (PAM_RHOST in a CIDR; a
// host name or an empty PAM_RHOST never matches), require_groups (the user
// must be in one) and exempt_groups (primary and supplementary groups). A
// group that cannot be read or does not exist never takes a user out of
// scope (docs/design.md, "The login flow").
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "flow/user_directory.h"

namespace otp::flow {

struct ScopeDecision {
  bool in_scope = true;
  std::string rule;  // which rule decided, e.g. "exempt_groups: wheel"
  // Groups that could not be read or do not exist and so decided nothing,
  // with what that meant; the login logs them at LOG_ERR.
  std::vector<std::string> problems;
};

ScopeDecision decide_scope(const config::Config& cfg, const UserInfo& user, UserDirectory& directory,
                           const std::string& service, const std::string& rhost);

}  // namespace otp::flow
