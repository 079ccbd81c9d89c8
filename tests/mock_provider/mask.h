// How a provider shows a destination back without revealing it, as in
// "+1******4567" or "a***@example.com".
#pragma once

#include <string>

namespace otp::mock {

// An e-mail address keeps its first character and its domain; anything else
// is taken as a phone number and keeps a leading '+', the first digit and
// the last four characters.
std::string mask_destination(const std::string& to);

}  // namespace otp::mock
