// How a login ends, independent of PAM: what the module returns (AuthResult,
// which the PAM layer hands to libpam) and what its log line says (Result).
// Each is one table; see docs/design.md, "The login flow".
#pragma once

#include <string_view>

namespace otp::flow {

// The module's answer to libpam. The values are Linux-PAM's return codes, so
// that the PAM layer returns them as they are (src/pam checks each one
// against <security/_pam_types.h> at compile time).
enum class AuthResult {
  Success = 0,           // PAM_SUCCESS
  ServiceErr = 3,        // PAM_SERVICE_ERR: configuration or internal error
  AuthErr = 7,           // PAM_AUTH_ERR
  AuthInfoUnavail = 9,   // PAM_AUTHINFO_UNAVAIL: provider unreachable, failmode secure
  UserUnknown = 10,      // PAM_USER_UNKNOWN
  MaxTries = 11,         // PAM_MAXTRIES
  ConvErr = 19,          // PAM_CONV_ERR
  Ignore = 25,           // PAM_IGNORE: out of scope, unenrolled with allow, fail-open
};

// "PAM_SUCCESS", ... (pam-otp test prints it; tests compare with it).
std::string_view result_name(AuthResult r);

// The result= field of the login's log line.
enum class Result {
  Error,                // nothing more precise was recorded
  Success,              // a code was verified
  Remembered,           // a code was verified from this client recently
  RecoveryCode,         // a recovery code was used
  OutOfScope,
  Unenrolled,
  FailOpen,             // failmode = safe let the login through without a code
  UserUnknown,
  ConversationFailed,
  MaxTries,
  Expired,
  Rejected,             // the provider refused the user or the code
  Locked,
  Disabled,             // the provider says the user's token is disabled
  WrongPin,             // the provider refused the PIN that starts its challenge
  RateLimited,
  SendLimited,          // our own send limit
  Unavailable,
  UntrustedProvider,    // TLS verification of the provider failed
  ConfigError,
  SshMethodsMissing,
  EarlierModuleFailed,  // OpenSSH's INCORRECT marker in PAM_AUTHTOK
  SshdFakedAnswer,      // sshd replaced an answer with its INCORRECT marker
  PasswordAsCode,  // the last (result_test.cc walks them all)
};

std::string_view result_text(Result r);
// The syslog priority its line is logged at, unless the caller says otherwise.
int result_priority(Result r);

}  // namespace otp::flow
