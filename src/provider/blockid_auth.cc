#include "provider/blockid_auth.h"

#include <json/value.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <cstdio>
#include <memory>

#include "base/base64.h"
#include "base/json.h"
#include "base/openssl_ptr.h"
#include "provider/template.h"

namespace otp::provider {
namespace {

using CipherCtxPtr = ossl::Ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using BnCtxPtr = ossl::Ptr<BN_CTX, BN_CTX_free>;
using GroupPtr = ossl::Ptr<EC_GROUP, EC_GROUP_free>;
using PointPtr = ossl::Ptr<EC_POINT, EC_POINT_free>;

constexpr char kCurve[] = "secp256k1";
constexpr std::size_t kPointBytes = 65;  // 0x04 || X || Y

[[noreturn]] void fail(const std::string& what) { throw RequestBuildError("blockid auth: " + what); }

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// An EC key from its encoded public point, with the private scalar when known.
ossl::Pkey make_key(const std::string& point, const BIGNUM* priv) {
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) ||
      (priv != nullptr && !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv)))
    fail("cannot build key parameters");
  const ossl::Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  const ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  // Decoding the point checks that it lies on the curve.
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    fail("not a valid secp256k1 key");
  return ossl::Pkey(key);
}

ossl::Pkey key_from_private(const Secret& base64) {
  auto raw = base64_decode(base64.reveal());
  if (!raw || raw->size() != 32) fail("private_key must be the base64 of a 32-byte scalar");
  const ossl::Bignum priv(BN_bin2bn(bytes(*raw), 32, nullptr));
  wipe(*raw);
  const GroupPtr group(EC_GROUP_new_by_curve_name(NID_secp256k1));
  const BnCtxPtr bn_ctx(BN_CTX_new());
  if (!priv || !group || !bn_ctx) fail("out of memory");
  if (BN_is_zero(priv.get()) || BN_cmp(priv.get(), EC_GROUP_get0_order(group.get())) >= 0) fail("private_key is out of range");
  const PointPtr pub(EC_POINT_new(group.get()));
  std::string point(kPointBytes, '\0');
  if (!pub || !EC_POINT_mul(group.get(), pub.get(), priv.get(), nullptr, nullptr, bn_ctx.get()) ||
      EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED,
                         reinterpret_cast<unsigned char*>(point.data()), point.size(), bn_ctx.get()) != kPointBytes)
    fail("cannot compute the public key");
  return make_key(point, priv.get());
}

ossl::Pkey fresh_key() {
  ossl::Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kCurve));
  if (!key) fail("cannot generate a key pair");
  return key;
}

std::string public_point(EVP_PKEY* key) {
  std::string point(kPointBytes, '\0');
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                      reinterpret_cast<unsigned char*>(point.data()), point.size(), &len) != 1 ||
      len != kPointBytes || point[0] != 0x04)
    fail("cannot encode the public key");
  return point;
}

ossl::Pkey community_key(std::string_view base64) {
  const auto raw = base64_decode(base64);
  if (!raw || raw->size() != kPointBytes - 1) fail("community_public_key must be the base64 of 64 bytes (X || Y)");
  return make_key("\x04" + *raw, nullptr);
}

Secret shared_secret(EVP_PKEY* ours, EVP_PKEY* theirs) {
  const ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, ours, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 || EVP_PKEY_derive_set_peer(ctx.get(), theirs) <= 0 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) <= 0 || len != 32)
    fail("key agreement failed");
  Secret out;
  out.mutable_value().resize(len);
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.mutable_value().data()), &len) <= 0)
    fail("key agreement failed");
  return out;
}

std::string uuid4() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) fail("no randomness");
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

}  // namespace

std::string blockid_encrypt(std::string_view plaintext, std::string_view key32) {
  if (key32.size() != 32) fail("the AES key must be 32 bytes");
  std::string out(16 + plaintext.size() + 16, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  const CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int n = 0, final_n = 0;
  if (RAND_bytes(buf, 16) != 1 || !ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 16, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key32), buf) != 1 ||
      EVP_EncryptUpdate(ctx.get(), buf + 16, &n, bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), buf + 16 + n, &final_n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, buf + 16 + n + final_n) != 1)
    fail("encryption failed");
  std::string encoded = base64_encode(out);
  wipe(out);
  return encoded;
}

BlockIdHeaders blockid_headers(const Secret& license_key, std::string_view community_public_key,
                               const Secret& private_key, std::string_view app_id, std::time_t now) {
  const ossl::Pkey ours = private_key.empty() ? fresh_key() : key_from_private(private_key);
  const ossl::Pkey theirs = community_key(community_public_key);
  const Secret key = shared_secret(ours.get(), theirs.get());
  Json::Value request_id(Json::objectValue);
  request_id["ts"] = static_cast<Json::Int64>(now);
  request_id["appid"] = std::string(app_id);
  request_id["uuid"] = uuid4();
  BlockIdHeaders h;
  h.publickey = base64_encode(public_point(ours.get()).substr(1));
  h.licensekey = Secret(blockid_encrypt(license_key.reveal(), key.reveal()));
  h.requestid = Secret(blockid_encrypt(json::to_string(request_id), key.reveal()));
  return h;
}

}  // namespace otp::provider
