#include "flow/result.h"

namespace otp::flow {

std::string_view result_name(AuthResult r) {
  switch (r) {
    case AuthResult::Success: return "PAM_SUCCESS";
    case AuthResult::Ignore: return "PAM_IGNORE";
    case AuthResult::AuthErr: return "PAM_AUTH_ERR";
    case AuthResult::MaxTries: return "PAM_MAXTRIES";
    case AuthResult::AuthInfoUnavail: return "PAM_AUTHINFO_UNAVAIL";
    case AuthResult::ServiceErr: return "PAM_SERVICE_ERR";
    case AuthResult::ConvErr: return "PAM_CONV_ERR";
    case AuthResult::UserUnknown: return "PAM_USER_UNKNOWN";
  }
  return "?";
}

}  // namespace otp::flow
