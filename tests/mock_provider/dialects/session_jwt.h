// Signed session tokens as Descope issues them (a JWT, RS256, with the
// project's published key set at /v2/keys/<project id>), for the mock and
// for the tests of pam_otp's verifier. Written with OpenSSL directly,
// independent of the code under test.
#pragma once

#include <json/value.h>

#include <memory>
#include <string>

namespace otp::mock {

class SessionSigner {
 public:
  // A fresh 2048-bit RSA key, made at first use (slow under valgrind, so
  // only when a token is signed). Throws std::runtime_error.
  SessionSigner();
  ~SessionSigner();
  SessionSigner(const SessionSigner&) = delete;
  SessionSigner& operator=(const SessionSigner&) = delete;

  // {"keys": [{"kty": "RSA", "kid", "alg": "RS256", "use": "sig", "n", "e"}]}
  Json::Value jwks() const;
  // header.claims.signature, signed RS256 with this key and kid.
  std::string sign(const Json::Value& claims) const;
  const std::string& kid() const { return kid_; }

 private:
  struct Key;
  const Key& key() const;

  mutable std::unique_ptr<Key> key_;
  std::string kid_;
};

// base64url without padding.
std::string base64url(const std::string& bytes);

}  // namespace otp::mock
