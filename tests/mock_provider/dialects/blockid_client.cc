#include "dialects/blockid_client.h"

#include <json/json.h>

#include <chrono>
#include <stdexcept>

#include "dialects/dialect_util.h"
#include "mock_json.h"

namespace otp::mock::testing {
namespace {

EcKey community_from(const std::string& b64) {
  const auto xy = base64_decode(b64);
  auto key = xy ? EcKey::from_public(*xy) : std::nullopt;
  if (!key) throw std::invalid_argument("not a BlockID public key: " + b64);
  return std::move(*key);
}

}  // namespace

BlockIdClient::BlockIdClient(const std::string& community_public_key_b64)
    : mine_(EcKey::generate()),
      key_(mine_.shared_secret(community_from(community_public_key_b64))) {}

std::string BlockIdClient::public_key() const { return base64_encode(mine_.public_xy()); }

std::string BlockIdClient::encrypt(const std::string& text) const {
  return blockid_encrypt(key_, text);
}

std::string BlockIdClient::request_id(long long ts, const std::string& appid) {
  Json::Value v(Json::objectValue);
  v["ts"] = static_cast<Json::Int64>(ts);
  v["appid"] = appid;
  v["uuid"] = random_uuid();
  return to_text(v);
}

long long BlockIdClient::now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> BlockIdClient::headers(const std::string& license, long long ts) const {
  return {"Content-Type: application/json", "charset: utf-8", "publickey: " + public_key(),
          "licensekey: " + encrypt(license), "requestid: " + encrypt(request_id(ts))};
}

}  // namespace otp::mock::testing
