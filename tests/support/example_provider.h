// The generic provider description of the mock's own API, as shipped in
// conf/pam_otp.conf. Tests build configs from it.
#pragma once

#include <string>

namespace otp::testing {

// A [provider.mock] table for the mock at base_url (one URL or a TOML array).
inline std::string mock_provider_toml(const std::string& base_url_toml) {
  return R"(
[provider.mock]
base_url = )" + base_url_toml + R"(
api_key = "test-api-key"
auth = { scheme = "bearer", token = "${api_key}" }
rules = [
  { status = 401, outcome = "config_error", message = "/message" },
  { status = 423, outcome = "locked", message = "/message", retry_after = "/retry_after" },
  { status = 429, outcome = "rate_limited", message = "/message", retry_after = "/retry_after" },
  { status = "5xx", outcome = "retry" },
]

[[provider.mock.send]]
url = "/v1/otp/send"
body = { user = "${user}", channel = "${provider_channel}", to = "${destination}" }
save = { transaction_id = "/transaction_id", masked_destination = "/masked_to", request_id = "/request_id" }
rules = [
  { status = 200, json = { "/status" = "sent" }, json_exists = ["/transaction_id"], outcome = "sent" },
  { status = 404, json = { "/error" = "unknown_user" }, outcome = "unknown_user", message = "/message" },
]

[[provider.mock.verify]]
url = "/v1/otp/verify"
body = { transaction_id = "${transaction_id}", code = "${code}" }
save = { request_id = "/request_id" }
rules = [
  { status = 200, json = { "/status" = "approved" }, outcome = "accepted" },
  { status = 422, json = { "/error" = "wrong_code" }, outcome = "wrong_code" },
  { status = 410, outcome = "expired" },
  { status = 404, json = { "/error" = "unknown_transaction" }, outcome = "expired" },
]
)";
}

}  // namespace otp::testing
