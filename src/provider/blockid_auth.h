// 1Kosmos BlockID's computed request headers: the caller's public key, and
// the license key and a request id encrypted for the community, as the
// official helper builds them:
//   shared key = ECDH(secp256k1, caller private key, community public key), the
//                raw 32-byte X coordinate used directly as the AES-256 key
//   encrypt(t) = base64(IV (16 random bytes) || AES-256-GCM(t) || tag (16 bytes))
//   publickey  = base64(caller's public point X || Y, without the 0x04 prefix)
//   licensekey = encrypt(license key)
//   requestid  = encrypt({"ts": <epoch seconds>, "appid": ..., "uuid": <uuid4>})
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "base/secret.h"

namespace otp::provider {

struct BlockIdHeaders {
  std::string publickey;
  Secret licensekey;
  Secret requestid;
};

// private_key: base64 of the raw 32-byte scalar, or empty for a fresh key
// pair. Throws TemplateError when a key is not valid.
BlockIdHeaders blockid_headers(const Secret& license_key, std::string_view community_public_key,
                               const Secret& private_key, std::string_view app_id, std::time_t now);

// The AES-256-GCM step alone (IV || ciphertext || tag, base64), for tests.
std::string blockid_encrypt(std::string_view plaintext, std::string_view key32);

}  // namespace otp::provider
