#include "provider/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "base/base64.h"
#include "base/json.h"
#include "base/openssl_ptr.h"

namespace otp::provider {
namespace {

constexpr long kLeeway = 60;  // seconds of clock difference allowed for exp and nbf

using DigestContext = ossl::Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using EcdsaSignature = ossl::Ptr<ECDSA_SIG, ECDSA_SIG_free>;

// base64url without padding (RFC 7515 §2), as JWTs and JWKs use it.
std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.find_first_of("+/=") != std::string_view::npos) return std::nullopt;  // not base64url
  std::string s(text);
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4 != 0) s += '=';
  return base64_decode(s);
}

std::string member(const Json::Value& v, const char* name) {
  return v.isObject() && v[name].isString() ? v[name].asString() : std::string();
}

ossl::Bignum bignum(const std::string& base64url) {
  const auto bytes = base64url_decode(base64url);
  if (!bytes || bytes->empty()) return ossl::Bignum(nullptr);
  return ossl::Bignum(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()), static_cast<int>(bytes->size()), nullptr));
}

ossl::Pkey from_params(const char* type, OSSL_PARAM_BLD* builder) {
  const ossl::Params params(OSSL_PARAM_BLD_to_param(builder));
  const ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    return ossl::Pkey(nullptr);
  return ossl::Pkey(key);
}

ossl::Pkey rsa_key(const Json::Value& jwk) {
  const ossl::Bignum n = bignum(member(jwk, "n")), e = bignum(member(jwk, "e"));
  const ossl::ParamBld b(OSSL_PARAM_BLD_new());
  if (!n || !e || !b || !OSSL_PARAM_BLD_push_BN(b.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(b.get(), OSSL_PKEY_PARAM_RSA_E, e.get()))
    return ossl::Pkey(nullptr);
  return from_params("RSA", b.get());
}

ossl::Pkey ec_key(const Json::Value& jwk) {
  const std::string crv = member(jwk, "crv");
  const char* group = crv == "P-256" ? "prime256v1" : crv == "P-384" ? "secp384r1" : nullptr;
  const auto x = base64url_decode(member(jwk, "x")), y = base64url_decode(member(jwk, "y"));
  if (group == nullptr || !x || !y || x->size() != y->size() || x->empty()) return ossl::Pkey(nullptr);
  const std::string point = std::string(1, '\x04') + *x + *y;  // uncompressed
  const ossl::ParamBld b(OSSL_PARAM_BLD_new());
  if (!b || !OSSL_PARAM_BLD_push_utf8_string(b.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(b.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
    return ossl::Pkey(nullptr);
  return from_params("EC", b.get());
}

// The key of the set the token names (kid), or the only one.
const Json::Value* find_key(const Json::Value& jwks, const std::string& kid) {
  const Json::Value& keys = jwks.isObject() ? jwks["keys"] : Json::Value::nullSingleton();
  if (!keys.isArray()) return nullptr;
  if (kid.empty()) return keys.size() == 1 ? &keys[0] : nullptr;
  for (const auto& key : keys)
    if (member(key, "kid") == kid) return &key;
  return nullptr;
}

// A JWS ECDSA signature is r || s; OpenSSL verifies DER.
std::optional<std::string> ecdsa_der(const std::string& raw) {
  if (raw.empty() || raw.size() % 2 != 0) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  const int half = static_cast<int>(raw.size() / 2);
  EcdsaSignature sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(p, half, nullptr);
  BIGNUM* s = BN_bin2bn(p + half, half, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

std::optional<std::string> check_signature(const std::string& alg, const Json::Value& jwk, std::string_view signed_part,
                                           const std::string& signature) {
  const EVP_MD* digest = alg == "RS256" || alg == "ES256" ? EVP_sha256()
                         : alg == "RS384" || alg == "ES384" ? EVP_sha384()
                         : alg == "RS512" ? EVP_sha512() : nullptr;
  if (digest == nullptr) return "algorithm '" + alg + "' is not accepted";
  const bool rsa = alg[0] == 'R';
  if (member(jwk, "kty") != (rsa ? "RSA" : "EC")) return "the key does not fit algorithm " + alg;
  const ossl::Pkey key = rsa ? rsa_key(jwk) : ec_key(jwk);
  if (!key) return "the key cannot be read";
  std::string sig = signature;
  if (!rsa) {
    auto der = ecdsa_der(signature);
    if (!der) return "the signature is malformed";
    sig = *der;
  }
  const DigestContext ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest, nullptr, key.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) != 1)
    return "the signature does not verify";
  return std::nullopt;
}

// Descope's rule: the issuer is the project id, or a URL (or a path) whose
// last or second-last segment is.
bool issuer_names(const std::string& iss, std::string_view project) {
  if (iss == project) return true;
  std::string_view path = iss;
  if (const auto scheme = path.find("://"); scheme != std::string_view::npos) {
    path.remove_prefix(scheme + 3);
    const auto slash = path.find('/');
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  std::vector<std::string_view> segments;
  for (std::size_t start = 0; start <= path.size();) {
    const auto end = std::min(path.find('/', start), path.size());
    if (end > start) segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  const std::size_t n = segments.size();
  return (n >= 1 && segments[n - 1] == project) || (n >= 2 && segments[n - 2] == project);
}

std::optional<std::string> check_claims(const Json::Value& claims, const JwtExpectations& expected) {
  const auto now = static_cast<double>(expected.now);
  if (!claims.isObject()) return "the claims are not a JSON object";
  const Json::Value& exp = claims["exp"];
  if (!exp.isNumeric()) return "it has no expiry (exp)";
  if (exp.asDouble() + kLeeway < now) return "it has expired";
  if (claims.isMember("nbf") && claims["nbf"].isNumeric() && claims["nbf"].asDouble() - kLeeway > now)
    return "it is not valid yet (nbf)";
  const Json::Value& iat = claims["iat"];
  if (!iat.isNumeric()) return "it has no issue time (iat)";
  if (iat.asDouble() + kLeeway < static_cast<double>(expected.issued_since)) return "it was issued before this login";
  if (member(claims, "sub") != expected.subject) return "its subject is not this user's id (user_id)";
  if (!expected.issuer.empty() && !issuer_names(member(claims, "iss"), expected.issuer))
    return "its issuer is not this project";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> jwks_problem(const Json::Value& jwks) {
  if (!jwks.isObject() || !jwks["keys"].isArray() || jwks["keys"].empty()) return "it is not a key set (no \"keys\" array)";
  for (const auto& key : jwks["keys"])
    if (!key.isObject()) return "a key is not a JSON object";
  return std::nullopt;
}

std::optional<std::string> verify_jwt(std::string_view token, const Json::Value& jwks, const JwtExpectations& expected) {
  if (expected.subject.empty()) return "this login has no user id to compare the subject with";
  if (auto why = jwks_problem(jwks)) return "the keys: " + *why;
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return "it is not a JWT (three parts)";
  const auto header_text = base64url_decode(token.substr(0, first));
  const auto claims_text = base64url_decode(token.substr(first + 1, second - first - 1));
  const auto signature = base64url_decode(token.substr(second + 1));
  const auto header = header_text ? json::parse(*header_text) : std::nullopt;
  const auto claims = claims_text ? json::parse(*claims_text) : std::nullopt;
  if (!header || !claims || !signature) return "it is not a JWT (bad base64url or JSON)";
  const Json::Value* jwk = find_key(jwks, member(*header, "kid"));
  if (jwk == nullptr) return "no published key has its kid";
  if (auto why = check_signature(member(*header, "alg"), *jwk, token.substr(0, second), *signature)) return why;
  return check_claims(*claims, expected);
}

}  // namespace otp::provider
