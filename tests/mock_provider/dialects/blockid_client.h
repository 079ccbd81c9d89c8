// A 1Kosmos BlockID caller for the tests, built from providers.md: its own
// secp256k1 key pair, and the publickey / licensekey / requestid headers
// encrypted to the community key. (pam_otp's own client is written apart
// from this on purpose; the known-answer test pins both to Node's crypto.)
#pragma once

#include <string>
#include <vector>

#include "dialects/blockid_crypto.h"

namespace otp::mock::testing {

class BlockIdClient {
 public:
  explicit BlockIdClient(const std::string& community_public_key_b64);

  std::string public_key() const;                      // base64 X‖Y
  std::string encrypt(const std::string& text) const;  // base64(IV ‖ ct ‖ tag)
  // {"ts":ts,"appid":appid,"uuid":<fresh uuid4>}
  static std::string request_id(long long ts, const std::string& appid = "pam_otp-test");
  static long long now();  // epoch seconds
  // Every header of a call: Content-Type, charset, publickey, licensekey
  // and requestid (with ts).
  std::vector<std::string> headers(const std::string& license, long long ts) const;

 private:
  EcKey mine_;
  std::string key_;  // the ECDH secret with the community
};

}  // namespace otp::mock::testing
