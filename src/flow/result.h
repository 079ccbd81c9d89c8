// How a login ends, independent of PAM (the PAM layer maps it to PAM_*).
#pragma once

#include <string_view>

namespace otp::flow {

enum class AuthResult {
  Success,          // PAM_SUCCESS
  Ignore,           // PAM_IGNORE: out of scope, unenrolled with allow, fail-open
  AuthErr,          // PAM_AUTH_ERR
  MaxTries,         // PAM_MAXTRIES
  AuthInfoUnavail,  // PAM_AUTHINFO_UNAVAIL: provider unreachable, failmode secure
  ServiceErr,       // PAM_SERVICE_ERR: configuration or internal error
  ConvErr,          // PAM_CONV_ERR
  UserUnknown,      // PAM_USER_UNKNOWN
};

std::string_view result_name(AuthResult r);

}  // namespace otp::flow
