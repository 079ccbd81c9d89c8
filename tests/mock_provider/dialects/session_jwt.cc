#include "dialects/session_jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <stdexcept>
#include <vector>

#include "mock_json.h"
#include "otp_random.h"

namespace otp::mock {

struct SessionSigner::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

std::string base64url(const std::string& bytes) {
  std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  std::string text(reinterpret_cast<char*>(out.data()), static_cast<std::size_t>(n));
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return text;
}

namespace {

std::string bignum_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("RSA key parameter");
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return base64url(bytes);
}

}  // namespace

SessionSigner::SessionSigner() : kid_("P2mock" + random_digits(12)) {}

const SessionSigner::Key& SessionSigner::key() const {
  if (!key_) {
    auto made = std::make_unique<Key>();
    made->pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    if (made->pkey == nullptr) throw std::runtime_error("cannot make an RSA key");
    key_ = std::move(made);
  }
  return *key_;
}

SessionSigner::~SessionSigner() = default;

Json::Value SessionSigner::jwks() const {
  Json::Value key(Json::objectValue);
  key["kty"] = "RSA";
  key["kid"] = kid_;
  key["alg"] = "RS256";
  key["use"] = "sig";
  key["n"] = bignum_param(this->key().pkey, OSSL_PKEY_PARAM_RSA_N);
  key["e"] = bignum_param(this->key().pkey, OSSL_PKEY_PARAM_RSA_E);
  Json::Value set(Json::objectValue);
  set["keys"].append(key);
  return set;
}

std::string SessionSigner::sign(const Json::Value& claims) const {
  Json::Value header(Json::objectValue);
  header["alg"] = "RS256";
  header["kid"] = kid_;
  header["typ"] = "JWT";
  const std::string signed_part = base64url(to_text(header)) + "." + base64url(to_text(claims));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t length = 0;
  std::string signature;
  if (ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key().pkey) == 1 &&
      EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(signed_part.data()),
                     signed_part.size()) == 1) {
    signature.resize(length);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) != 1)
      signature.clear();
    signature.resize(length);
  }
  EVP_MD_CTX_free(ctx);
  if (signature.empty()) throw std::runtime_error("cannot sign");
  return signed_part + "." + base64url(signature);
}

}  // namespace otp::mock
