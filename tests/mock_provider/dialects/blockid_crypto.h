// The crypto of 1Kosmos BlockID's request headers (providers.md "1Kosmos
// BlockID"), written from that description alone: secp256k1 keys shown as
// base64 of the 64-byte X‖Y (no 0x04 prefix), the raw ECDH X coordinate
// used directly as an AES-256-GCM key, and envelopes of
// base64(IV(16) ‖ ciphertext ‖ tag(16)). OpenSSL 3 EVP/OSSL_PARAM only.
#pragma once

#include <optional>
#include <string>

#include "ossl_ptr.h"

namespace otp::mock {

// A secp256k1 key: a pair, or only a peer's public half.
class EcKey {
 public:
  static EcKey generate();  // throws std::runtime_error
  // From the raw 32-byte big-endian scalar; nullopt if out of range.
  static std::optional<EcKey> from_private(const std::string& scalar);
  // From the raw 64-byte X‖Y; nullopt unless a point on the curve.
  static std::optional<EcKey> from_public(const std::string& xy);

  std::string public_xy() const;  // 64 bytes X‖Y
  // ECDH: the raw 32-byte X coordinate of our private key times the peer's
  // public point. Throws std::runtime_error (e.g. without a private half).
  std::string shared_secret(const EcKey& peer) const;

 private:
  explicit EcKey(PkeyPtr key) : key_(std::move(key)) {}
  static std::optional<EcKey> from_point(const unsigned char* uncompressed65, const BIGNUM* priv);
  PkeyPtr key_;
};

// AES-256-GCM: IV ‖ ciphertext ‖ 16-byte tag. key: 32 bytes; iv: any
// non-empty length (BlockID's is 16). Throws std::runtime_error.
std::string gcm_seal(const std::string& key, const std::string& plaintext, const std::string& iv);
// The plaintext of a gcm_seal() output with a 16-byte IV; nullopt if too
// short or the tag does not verify.
std::optional<std::string> gcm_open(const std::string& key, const std::string& sealed);

// BlockID's encrypt(text): base64(gcm_seal(key, text, 16 random bytes)).
std::string blockid_encrypt(const std::string& key, const std::string& text);
// Its inverse; nullopt if not base64 or not authentic.
std::optional<std::string> blockid_decrypt(const std::string& key, const std::string& envelope);

// The community's key pair, which the mock makes when it is constructed.
class CommunityKey {
 public:
  // private_b64: base64 of a raw 32-byte scalar, or "" for a fresh key.
  // Throws std::invalid_argument if it is not a valid scalar.
  explicit CommunityKey(const std::string& private_b64 = "");
  std::string public_key() const;  // base64 of X‖Y
  std::string shared_secret(const EcKey& caller) const { return key_.shared_secret(caller); }

 private:
  static EcKey load(const std::string& private_b64);
  EcKey key_;
};

}  // namespace otp::mock
