// Base64 (RFC 4648, with padding) through OpenSSL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/secret.h"

namespace otp {

std::string base64_encode(std::string_view data);
// The same, in memory that is wiped (the encoding of a credential).
Secret base64_encode_secret(std::string_view data);
// nullopt when text is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace otp
