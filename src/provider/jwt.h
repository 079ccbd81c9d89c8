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

// What a step's validate_jwt table says. The keys never come from the
// connection the answer came over (whoever forges the answer would serve
// keys of their own): they are a file, read with the config.
struct JwtCheck {
  std::string token;      // JSON Pointer to the token in the answer ("/sessionJwt")
  std::string keys_file;  // template over the provider table's keys: the JWKS file
  std::string subject;    // template: who "sub" must name, from this login ("${user_id}")
  std::string issuer;     // template, may be empty: the project "iss" must name
  Json::Value keys;       // the JWKS read from keys_file (config/loader.cc); null: not read
  bool enabled() const { return !token.empty(); }
};

// nullopt when the token is signed (RS256, RS384, RS512, ES256, ES384) by a
// key of `jwks` whose "kid" it names (or the only key, when it names none),
// is not expired (exp, and nbf if present, against now with 60 s of leeway),
// was issued (iat) no earlier than `issued_since` less the leeway (the
// login's start: a session from an earlier login is not this one's), its
// "sub" equals `subject` and, when `issuer` is not empty, its "iss" names
// that project (the id itself, or a URL or path whose last or second-last
// segment it is, as Descope's SDKs accept); otherwise why not.
struct JwtExpectations {
  std::string_view subject;
  std::string_view issuer;
  std::time_t issued_since = 0;
  std::time_t now = 0;
};
std::optional<std::string> verify_jwt(std::string_view token, const Json::Value& jwks, const JwtExpectations& expected);

// Is `jwks` a key set verify_jwt can use (an object whose "keys" is a
// non-empty array of objects)? nullopt when it is, else why not.
std::optional<std::string> jwks_problem(const Json::Value& jwks);

}  // namespace otp::provider
