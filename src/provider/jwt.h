// Checking a provider's signed session token (a JWT, RFC 7519) against the
// provider's published keys (a JWKS, RFC 7517): signature, expiry and
// subject. An acceptance is then proven by the provider's signature, not
// only by the TLS channel it came over (Descope's validate_session).
#pragma once

#include <json/value.h>

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace otp::provider {

// What a step's validate_jwt table says (all templates but token, a pointer).
struct JwtCheck {
  std::string token;     // JSON Pointer to the token in the answer ("/sessionJwt")
  std::string keys_url;  // template of the JWKS URL, relative to base_url unless absolute
  std::string subject;   // JSON Pointer in the answer to the value "sub" must equal ("/user/userId")
  bool enabled() const { return !token.empty(); }
};

// nullopt when the token is signed (RS256, RS384, RS512, ES256, ES384) by a
// key of `jwks` whose "kid" it names (or the only key, when it names none),
// is not expired (exp, and nbf if present, against now with 60 s of leeway)
// and its "sub" equals `subject`; otherwise why not.
std::optional<std::string> verify_jwt(std::string_view token, const Json::Value& jwks, std::string_view subject,
                                      std::time_t now);

}  // namespace otp::provider
