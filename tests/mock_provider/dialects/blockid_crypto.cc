#include "dialects/blockid_crypto.h"

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>

#include <stdexcept>
#include <vector>

#include "dialects/dialect_util.h"
#include "otp_random.h"

namespace otp::mock {
namespace {

constexpr char kCurve[] = "secp256k1";
constexpr std::size_t kPointSize = 65;  // 0x04 ‖ X ‖ Y
constexpr std::size_t kScalarSize = 32;
constexpr std::size_t kIvSize = 16, kTagSize = 16, kKeySize = 32;

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("otp-mock: BlockID crypto: ") + what);
}

const unsigned char* bytes(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A cipher context for AES-256-GCM with this IV length, which must be set
// before the IV itself (OpenSSL otherwise takes only the default 12 bytes).
CipherCtxPtr gcm_context(bool encrypt, const std::string& key, const std::string& iv) {
  if (key.size() != kKeySize || iv.empty()) fail("bad key or IV size");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::size_t iv_len = iv.size();
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &iv_len),
                               OSSL_PARAM_construct_end()};
  if (!ctx ||
      EVP_CipherInit_ex2(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, encrypt, params) != 1 ||
      EVP_CipherInit_ex2(ctx.get(), nullptr, bytes(key), bytes(iv), encrypt, nullptr) != 1)
    fail("cannot set up AES-256-GCM");
  return ctx;
}

}  // namespace

EcKey EcKey::generate() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kCurve));
  if (!key) fail("cannot generate a secp256k1 key");
  return EcKey(std::move(key));
}

// Imports a point (and the scalar it came from, if any), refusing points
// that are not on the curve.
std::optional<EcKey> EcKey::from_point(const unsigned char* uncompressed65, const BIGNUM* priv) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, uncompressed65,
                                       kPointSize) != 1 ||
      (priv != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1))
    fail("cannot build key parameters");
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) fail("cannot import a key");
  EVP_PKEY* raw = nullptr;
  const int selection = priv != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) return std::nullopt;
  PkeyPtr key(raw);
  // fromdata already refuses most bad points; the explicit check is what
  // the BlockID description asks for ("a valid curve point").
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return std::nullopt;
  return EcKey(std::move(key));
}

std::optional<EcKey> EcKey::from_public(const std::string& xy) {
  if (xy.size() != kPointSize - 1) return std::nullopt;
  const std::string point = '\x04' + xy;
  return from_point(bytes(point), nullptr);
}

std::optional<EcKey> EcKey::from_private(const std::string& scalar) {
  if (scalar.size() != kScalarSize) return std::nullopt;
  EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_secp256k1));
  BnPtr priv(BN_bin2bn(bytes(scalar), static_cast<int>(scalar.size()), nullptr));
  EcPointPtr pub(group ? EC_POINT_new(group.get()) : nullptr);
  BnCtxPtr bn_ctx(BN_CTX_new());
  if (!group || !priv || !pub || !bn_ctx) fail("out of memory");
  if (BN_is_zero(priv.get()) || BN_cmp(priv.get(), EC_GROUP_get0_order(group.get())) >= 0)
    return std::nullopt;
  unsigned char point[kPointSize];
  if (EC_POINT_mul(group.get(), pub.get(), priv.get(), nullptr, nullptr, bn_ctx.get()) != 1 ||
      EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, point, sizeof point,
                         bn_ctx.get()) != kPointSize)
    fail("cannot compute the public point");
  return from_point(point, priv.get());
}

std::string EcKey::public_xy() const {
  unsigned char point[kPointSize];
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                      &len) != 1 ||
      len != kPointSize || point[0] != 0x04)
    fail("cannot export the public point");
  return std::string(reinterpret_cast<const char*>(point) + 1, kPointSize - 1);
}

std::string EcKey::shared_secret(const EcKey& peer) const {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.key_.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1)
    fail("cannot derive the shared secret");
  std::vector<unsigned char> secret(len);
  if (EVP_PKEY_derive(ctx.get(), secret.data(), &len) != 1) fail("cannot derive the shared secret");
  return std::string(secret.begin(), secret.begin() + static_cast<std::ptrdiff_t>(len));
}

std::string gcm_seal(const std::string& key, const std::string& plaintext, const std::string& iv) {
  CipherCtxPtr ctx = gcm_context(true, key, iv);
  std::vector<unsigned char> out(plaintext.size() + kTagSize);
  int len = 0, final_len = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &final_len) != 1)
    fail("encryption failed");
  unsigned char tag[kTagSize];
  OSSL_PARAM get_tag[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, sizeof tag),
      OSSL_PARAM_construct_end()};
  if (EVP_CIPHER_CTX_get_params(ctx.get(), get_tag) != 1) fail("cannot read the GCM tag");
  const auto* text = reinterpret_cast<const char*>(out.data());
  return iv + std::string(text, static_cast<std::size_t>(len + final_len)) +
         std::string(reinterpret_cast<const char*>(tag), sizeof tag);
}

std::optional<std::string> gcm_open(const std::string& key, const std::string& sealed) {
  if (sealed.size() < kIvSize + kTagSize) return std::nullopt;
  CipherCtxPtr ctx = gcm_context(false, key, sealed.substr(0, kIvSize));
  const std::string body = sealed.substr(kIvSize, sealed.size() - kIvSize - kTagSize);
  std::string tag = sealed.substr(sealed.size() - kTagSize);
  std::vector<unsigned char> out(body.size() + kTagSize);
  int len = 0, final_len = 0;
  OSSL_PARAM set_tag[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
      OSSL_PARAM_construct_end()};
  if (EVP_DecryptUpdate(ctx.get(), out.data(), &len, bytes(body), static_cast<int>(body.size())) !=
          1 ||
      EVP_CIPHER_CTX_set_params(ctx.get(), set_tag) != 1)
    return std::nullopt;
  // Final is where the tag is checked: a forged or damaged envelope fails here.
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &final_len) != 1) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out.data()),
                     static_cast<std::size_t>(len + final_len));
}

std::string blockid_encrypt(const std::string& key, const std::string& text) {
  return base64_encode(gcm_seal(key, text, random_bytes(kIvSize)));
}

std::optional<std::string> blockid_decrypt(const std::string& key, const std::string& envelope) {
  const auto sealed = base64_decode(envelope);
  if (!sealed) return std::nullopt;
  return gcm_open(key, *sealed);
}

EcKey CommunityKey::load(const std::string& private_b64) {
  if (private_b64.empty()) return EcKey::generate();
  const auto scalar = base64_decode(private_b64);
  auto key = scalar ? EcKey::from_private(*scalar) : std::nullopt;
  if (!key) throw std::invalid_argument("blockid_private_key");
  return std::move(*key);
}

CommunityKey::CommunityKey(const std::string& private_b64) : key_(load(private_b64)) {}

std::string CommunityKey::public_key() const { return base64_encode(key_.public_xy()); }

}  // namespace otp::mock
