// Settings of the provider dialects: one plain struct per real provider
// whose wire format the mock speaks besides its generic API (see
// /work/shared/providers.md). Changeable at runtime through
// MockProvider::configure_dialects() or POST /mock/dialects. Lockout and
// rate-limit numbers not listed here come from MockSettings.
#pragma once

#include <json/json.h>

#include <map>
#include <string>
#include <vector>

namespace otp::mock {

struct StytchSettings {
  std::string project_id = "project-test-00000000-0000-4000-8000-000000000000";
  std::string secret = "secret-test-pam-otp";
  // E.164 numbers and e-mails of existing users; empty = every one exists.
  std::vector<std::string> known_destinations;
};

struct DescopeSettings {
  std::string project_id = "P2pamotpTEST0000000000000000";
  std::string management_key;                // "" = none; else Bearer <project_id>:<key>
  std::vector<std::string> known_login_ids;  // empty = every login id exists
  // Where a login id's codes go when the id is not itself an E.164 number
  // (sms, voice, whatsapp) or an e-mail (email).
  std::map<std::string, std::string> phones;  // login id -> E.164
  std::map<std::string, std::string> emails;  // login id -> e-mail
  // Descope's user id of a login id; by default "U2" and a digest of it.
  std::map<std::string, std::string> user_ids;
  // The sessionJwt a verify returns: "opaque" (random text, the default:
  // signing makes an RSA key, slow under valgrind), "signed" (RS256, the key
  // published at /v2/keys/<project id>), "forged" (another key), "expired",
  // "other_user" (a subject that is not the user the answer names),
  // "replayed" (another user's valid session, the answer naming that user
  // too), "own_keys" (signed by another key, which /v2/keys then publishes:
  // an answer's host that serves keys of its own), "other_project" (an
  // issuer that is another project), or "stale" (the user's valid session,
  // issued an hour ago: replayed from an earlier login).
  std::string session = "opaque";
};

struct TwilioSettings {
  std::string account_sid = "AC00000000000000000000000000000000";
  std::string auth_token = "twilio-test-token";
  std::string service_sid = "VA00000000000000000000000000000000";
  int max_check_attempts = 5;  // failed checks per verification
  int max_send_attempts = 5;   // sends per pending verification
  // Numbers Twilio refuses (60200 "Invalid parameter `To`: <number>", as it
  // does for numbers that fail its validation, e.g. the 555 range).
  std::vector<std::string> invalid_numbers;
};

struct PrivacyIdeaUser {
  std::string pin, realm, phone;  // realm "" = the default realm
  std::string email;              // an e-mail token besides the SMS one ("" = none)
  bool disabled = false;          // the user's tokens are disabled
};

struct PrivacyIdeaSettings {
  std::map<std::string, PrivacyIdeaUser> users{{"alice", {"", "", "+15551234567", "", false}},
                                               {"bob", {"1234", "corp", "+15557654321", "", false}}};
  int max_fail = 5;  // failcounter limit; reset() clears the counters
  // The passOnNoUser policy: an unknown user is accepted without a code.
  bool pass_on_no_user = false;
  // The SMS gateway and mail server fail: the PIN is right, nothing is sent.
  bool gateway_down = false;
};

struct BlockIdSettings {
  std::string tenant_id = "5f3d8d0cd866fa61019cf968";
  std::string community_id = "5f3d8d0cd866fa61019cf969";
  std::string license_key = "blockid-test-license";
  bool status_as_string = false;  // verify answers "status":"true" instead of true
  int generate_status = 202;      // 1Kosmos's helpers accept 200 too
};

struct BaanxUser {
  std::string password, phone;
  bool otp_required = true;
};

struct BaanxSettings {
  std::string client_key = "baanx-test-client-key";
  std::map<std::string, BaanxUser> users{
      {"alice@example.com", {"alice-password", "+15551234567", true}},
      {"olive@example.com", {"olive-password", "+15550001111", false}}};
};

// One member per dialect, read and shown by its DialectKind (dialect.h).
struct Dialects {
  StytchSettings stytch;
  DescopeSettings descope;
  TwilioSettings twilio;
  PrivacyIdeaSettings privacyidea;
  BlockIdSettings blockid;
  BaanxSettings baanx;
};

// Throws std::invalid_argument naming the first bad field, e.g.
// "twilio.max_check_attempts".
void validate(const Dialects& d);

// {"stytch":{...},"descope":{...},...}, every field.
Json::Value to_json(const Dialects& d);

// Overwrites only the sections and fields present in obj (a map field is
// replaced whole). All or nothing: throws std::invalid_argument naming the
// first bad field and leaves d unchanged. Validates the result.
void apply_json(const Json::Value& obj, Dialects& d);

}  // namespace otp::mock
