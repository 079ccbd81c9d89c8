// Every preset through real libpam against the mock speaking that
// provider's own wire format (tests/mock_provider/dialects), over TLS:
// success, wrong then right, expiry, lockout and rate limit, unknown user,
// bad credentials, and the exact request compared with providers.md.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "base/base64.h"
#include "base/json.h"
#include "pam_harness.h"
#include "test_curl.h"

using namespace otp::testing;

namespace {

const char* kAlicePhone = "+15551234567";

std::vector<otp::mock::RecordedRequest> requests() { return Shared::mock().requests(); }

std::string header(const otp::mock::RecordedRequest& r, const std::string& name) {
  for (const auto& [key, value] : r.headers)
    if (key == name) return value;
  return "";
}

Json::Value body(const otp::mock::RecordedRequest& r) {
  auto doc = otp::json::parse(r.body);
  BOOST_REQUIRE_MESSAGE(doc.has_value(), "not JSON: " + r.body);
  return *doc;
}

// A form body as a map (field order carries no meaning), percent-decoded.
std::map<std::string, std::string> form(const std::string& text) {
  std::map<std::string, std::string> out;
  auto decode = [](const std::string& s) {
    std::string d;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        d += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        d += s[i] == '+' ? ' ' : s[i];
      }
    }
    return d;
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find('&', start), text.size());
    const std::string pair = text.substr(start, end - start);
    const auto eq = pair.find('=');
    if (!pair.empty()) out[decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : decode(pair.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

using Form = std::map<std::string, std::string>;

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + otp::base64_encode(user + ":" + password);
}

// A PAM stack whose config uses a preset pointed at the mock.
struct PresetFixture {
  PamHarness pam;
  otp::mock::Dialects dialects;  // the mock's defaults, for credentials

  void use(const std::string& provider_keys, const std::string& top = "") {
    pam.write_config("users_file = \"" + pam.users_path() + "\"\nca_file = \"" + Shared::pki().ca_cert + "\"\n" +
                     top + "\n[provider.corp]\nbase_url = \"" + pam.mock_url() + "\"\n" + provider_keys + "\n");
  }
  void configure(const std::function<void(otp::mock::Dialects&)>& change) {
    change(dialects);
    Shared::mock().configure_dialects(dialects);
  }
  // Password via pam_matrix, then the codes.
  PamResult login(const std::string& user, std::vector<Responder> codes) {
    if (authtok_from_stack) return login_with_authtok(user, user + "-password", std::move(codes));
    codes.insert(codes.begin(), say(user + "-password"));
    return pam.authenticate(user, std::move(codes));
  }
  bool authtok_from_stack = false;

  // Scenarios every provider goes through, each asserting the outcome
  // docs/design.md's login flow gives it.
  void wrong_then_right(const std::string& user, const std::string& to) {
    const auto r = login(user, {wrong_code_for(to), code_for(to)});
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_SUCCESS);
    BOOST_TEST(r.errors.at(0) == "Incorrect code, 2 attempts left.");
  }
  void expired_then_resend(const std::string& user, const std::string& to) {
    const auto r = login(user, {expire_then_answer(to), say(""), code_for(to)});
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_SUCCESS);
    BOOST_TEST(r.errors.at(0) == "The code has expired. Press Enter to get a new one.");
    BOOST_TEST(Shared::mock().outbox().size() == 2u);
  }
  PamResult wrong_codes(const std::string& user, const std::string& to, int count) {
    return login(user, std::vector<Responder>(static_cast<std::size_t>(count), wrong_code_for(to)));
  }
  // The provider locks after `max_failures` wrong codes (MockSettings).
  PamResult locked_after(int max_failures, const std::string& user, const std::string& to) {
    auto settings = Shared::mock().settings();
    settings.max_failures = max_failures;
    Shared::mock().configure(settings);
    const auto r = wrong_codes(user, to, 3);
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_MAXTRIES);
    BOOST_TEST(r.logged("result=locked"));
    return r;
  }
  // One code per window (MockSettings); the config must allow a resend at once.
  PamResult rate_limited_on_resend(const std::string& user, const std::string& to) {
    auto settings = Shared::mock().settings();
    settings.max_sends = 1;
    Shared::mock().configure(settings);
    const auto r = login(user, {say(""), code_for(to)});
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_MAXTRIES);
    BOOST_TEST(r.logged("result=rate_limited"));
    return r;
  }
  static Responder expire_then_answer(const std::string& to) {
    return [to](const std::string& prompt) {
      Shared::mock().expire_codes();
      return code_for(to)(prompt);
    };
  }
  PamResult login_with_authtok(const std::string& user, const std::string& password, std::vector<Responder> codes) {
    return pam.authenticate_with_authtok(user, password, std::move(codes));
  }
};

}  // namespace

// ---------------------------------------------------------------------------
BOOST_FIXTURE_TEST_SUITE(preset_stytch, PresetFixture)

void use_stytch(PresetFixture& f, const std::string& extra = "", const std::string& secret = "",
                const std::string& top = "") {
  f.use("preset = \"stytch\"\nproject_id = \"" + f.dialects.stytch.project_id + "\"\nsecret = \"" +
            (secret.empty() ? f.dialects.stytch.secret : secret) + "\"\n" + extra,
        top);
}

BOOST_AUTO_TEST_CASE(sms_login_and_the_exact_request) {
  use_stytch(*this);
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  const auto sent = requests();
  BOOST_REQUIRE(sent.size() == 2u);
  BOOST_TEST(sent[0].method == "POST");
  BOOST_TEST(sent[0].path == "/v1/otps/sms/send");
  BOOST_TEST(header(sent[0], "authorization") == basic(dialects.stytch.project_id, dialects.stytch.secret));
  BOOST_TEST(header(sent[0], "content-type") == "application/json");
  BOOST_TEST(otp::json::to_string(body(sent[0])) == R"({"phone_number":"+15551234567"})");
  BOOST_TEST(sent[1].path == "/v1/otps/authenticate");
  const Json::Value verify = body(sent[1]);
  BOOST_TEST(verify["method_id"].asString().rfind("phone-number-", 0) == 0u);
  BOOST_TEST(verify.size() == 2u);
}

BOOST_AUTO_TEST_CASE(email_channel_and_expiration) {
  use_stytch(*this, "expiration_minutes = 5\nlocale = \"fr\"");
  const auto r = login("bob", {code_for("bob@example.com")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  const auto sent = requests();
  BOOST_TEST(sent.at(0).path == "/v1/otps/email/send");
  const Json::Value send = body(sent.at(0));
  BOOST_TEST(send["email"].asString() == "bob@example.com");
  BOOST_TEST(send["expiration_minutes"].isInt());  // the type is kept
  BOOST_TEST(send["expiration_minutes"].asInt() == 5);
  BOOST_TEST(send["locale"].asString() == "fr");
  BOOST_TEST(body(sent.at(1))["method_id"].asString().rfind("email-", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(wrong_then_right_code) {
  use_stytch(*this);
  wrong_then_right("alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(expired_code_then_resend) {
  use_stytch(*this);
  expired_then_resend("alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(user_lock_limit) {
  use_stytch(*this);
  locked_after(2, "alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(rate_limit) {
  use_stytch(*this, "", "", "resend_cooldown = 0");
  rate_limited_on_resend("alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(unknown_phone_number) {
  configure([](otp::mock::Dialects& d) { d.stytch.known_destinations = {"+15550000000"}; });
  use_stytch(*this);
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.logged("result=rejected"));
}

BOOST_AUTO_TEST_CASE(bad_credentials) {
  use_stytch(*this, "", "secret-test-wrong");
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged("SYSLOG(3)"));
  BOOST_TEST(!r.logged("secret-test-wrong"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_FIXTURE_TEST_SUITE(preset_descope, PresetFixture)

void use_descope(PresetFixture& f, const std::string& extra = "", const std::string& top = "") {
  f.use("preset = \"descope\"\nproject_id = \"" + f.dialects.descope.project_id + "\"\n" + extra, top);
}

BOOST_AUTO_TEST_CASE(sms_login_and_the_exact_request) {
  use_descope(*this);
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  const auto sent = requests();
  BOOST_REQUIRE(sent.size() == 2u);
  BOOST_TEST(sent[0].path == "/v1/auth/otp/signin/sms");
  BOOST_TEST(header(sent[0], "authorization") == "Bearer " + dialects.descope.project_id);
  BOOST_TEST(otp::json::to_string(body(sent[0])) == R"({"loginId":"+15551234567"})");
  BOOST_TEST(sent[1].path == "/v1/auth/otp/verify/sms");
  BOOST_TEST(body(sent[1])["loginId"].asString() == kAlicePhone);
  // Every SDK sends the project id in a header of its own.
  for (const auto& request : sent) BOOST_TEST(header(request, "x-descope-project-id") == dialects.descope.project_id);
  // Descope's own masked number is in the prompt.
  BOOST_TEST(r.prompts.at(1).find("+*******4567") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(management_key_and_email) {
  configure([](otp::mock::Dialects& d) { d.descope.management_key = "K2secret"; });
  use_descope(*this, "management_key = \"K2secret\"");
  const auto r = login("bob", {code_for("bob@example.com")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(requests().at(0).path == "/v1/auth/otp/signin/email");
  BOOST_TEST(header(requests().at(0), "authorization") == "Bearer " + dialects.descope.project_id + ":K2secret");
  BOOST_TEST(!r.logged("K2secret"));
}

BOOST_AUTO_TEST_CASE(wrong_then_right_code) {
  use_descope(*this);
  wrong_then_right("alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(too_many_attempts_locks) {
  use_descope(*this);
  locked_after(2, "alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(rate_limit_with_retry_after) {
  use_descope(*this, "", "resend_cooldown = 0");
  const auto r = rate_limited_on_resend("alice", kAlicePhone);
  BOOST_TEST(r.errors.back().find("Try again in") != std::string::npos);  // from Retry-After
}

BOOST_AUTO_TEST_CASE(unknown_user) {
  configure([](otp::mock::Dialects& d) { d.descope.known_login_ids = {"someone@else.example"}; });
  use_descope(*this);
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
}

BOOST_AUTO_TEST_CASE(bad_project_id) {
  use("preset = \"descope\"\nproject_id = \"P2wrong\"\n");
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
}

// sign_up: a user in the users file but unknown to Descope signs up.
BOOST_AUTO_TEST_CASE(sign_up_or_in) {
  configure([](otp::mock::Dialects& d) { d.descope.known_login_ids = {"+15557654321"}; });
  use_descope(*this);
  const auto refused = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST(refused.rc == PAM_AUTH_ERR);  // E062108: sign-in only
  use_descope(*this, "sign_up = true");
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(requests().at(requests().size() - 2).path == "/v1/auth/otp/signup-in/sms");
}

// The project's signing keys, as an administrator fetches them once
// (curl .../v2/keys/<project id> -o FILE), into a root-owned file.
std::string fetch_descope_keys(PresetFixture& f) {
  // (libcurl, not httplib's client: that one reads uninitialised memory
  // while it checks an IP address, and valgrind says so.)
  otp::mock::testing::CurlClient client(Shared::pki().ca_cert);
  client.set_timeout_ms(60000);  // the mock makes its RSA key now: slow under valgrind
  const auto answer = client.get(f.pam.mock_url() + "/v2/keys/" + f.dialects.descope.project_id);
  BOOST_REQUIRE_MESSAGE(answer.status == 200, answer.error);
  const std::string path = f.pam.dir() + "/descope-keys.json";
  std::ofstream(path) << answer.body;
  ::chmod(path.c_str(), 0644);
  Shared::mock().reset();  // forget the fetch: pam_otp's own requests are counted below
  return path;
}

// validate_session: an acceptance must carry a sessionJwt signed by a key
// of session_keys (read with the config: an answer never brings its own),
// unexpired, issued for the project, for the user_id of the users file;
// anything else is the service being unavailable, never a success.
BOOST_AUTO_TEST_CASE(validate_session) {
  configure([](otp::mock::Dialects& d) {
    d.descope.session = "signed";
    d.descope.user_ids["+15551234567"] = "U2alice";
  });
  const std::string keys = fetch_descope_keys(*this);
  pam.write_users("alice phone=+15551234567 user_id=U2alice\n");
  use_descope(*this, "validate_session = true\nsession_keys = \"" + keys + "\"");
  const auto good = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(good.describe());
  BOOST_TEST(good.rc == PAM_SUCCESS);
  for (const auto& r : requests()) BOOST_TEST(r.path.find("/v2/keys") == std::string::npos, r.path);
  // forged: another key; own_keys: another key that the answer's host also
  // publishes; replayed: another user's valid session, the answer naming
  // that user too; other_user: a subject not the user's; other_project:
  // another issuer; stale: the user's own session from an earlier login.
  for (const std::string bad : {"forged", "own_keys", "expired", "other_user", "replayed", "other_project", "stale"}) {
    Shared::mock().reset();
    configure([&](otp::mock::Dialects& d) { d.descope.session = bad; });
    const auto r = login("alice", {code_for(kAlicePhone)});
    BOOST_TEST_INFO(bad << "\n" << r.describe());
    BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
    BOOST_TEST(r.logged("session token:"));
    BOOST_TEST(!r.logged("result=success"));
  }
  // A user without user_id: nothing to bind the session to.
  configure([](otp::mock::Dialects& d) { d.descope.session = "signed"; });
  pam.write_users("alice phone=+15551234567\n");
  const auto unbound = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(unbound.describe());
  BOOST_TEST(unbound.rc == PAM_SERVICE_ERR);
  BOOST_TEST(unbound.logged("result=config_error"));
  BOOST_TEST(unbound.logged("user_id"));
  // Without validate_session the token is not looked at.
  configure([](otp::mock::Dialects& d) { d.descope.session = "opaque"; });
  use_descope(*this);
  const auto unchecked = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST(unchecked.rc == PAM_SUCCESS);
}

// validate_session needs its keys: none, or a file that is no key set, is
// a configuration error before anything is sent.
BOOST_AUTO_TEST_CASE(validate_session_without_keys_is_a_config_error) {
  pam.write_users("alice phone=+15551234567 user_id=U2alice\n");
  use_descope(*this, "validate_session = true");
  const auto none = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(none.describe());
  BOOST_TEST(none.rc == PAM_SERVICE_ERR);
  BOOST_TEST(none.logged("validate_jwt.keys_file': session tokens are checked, but no key file is given"));
  const std::string junk = pam.dir() + "/junk.json";
  std::ofstream(junk) << "{\"keys\": []}";
  ::chmod(junk.c_str(), 0644);
  use_descope(*this, "validate_session = true\nsession_keys = \"" + junk + "\"");
  const auto bad = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST(bad.rc == PAM_SERVICE_ERR);
  BOOST_TEST(bad.logged("not a key set (JWKS) for session tokens"));
  BOOST_TEST(requests().empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_FIXTURE_TEST_SUITE(preset_twilio_verify, PresetFixture)

void use_twilio(PresetFixture& f, const std::string& token = "", const std::string& top = "") {
  const auto& t = f.dialects.twilio;
  f.use("preset = \"twilio_verify\"\naccount_sid = \"" + t.account_sid + "\"\nauth_token = \"" +
            (token.empty() ? t.auth_token : token) + "\"\nservice_sid = \"" + t.service_sid + "\"\n",
        top);
}

BOOST_AUTO_TEST_CASE(sms_login_and_the_exact_form_requests) {
  use_twilio(*this);
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  const auto sent = requests();
  BOOST_REQUIRE(sent.size() == 2u);
  const auto& t = dialects.twilio;
  BOOST_TEST(sent[0].path == "/v2/Services/" + t.service_sid + "/Verifications");
  BOOST_TEST(header(sent[0], "content-type") == "application/x-www-form-urlencoded");
  BOOST_TEST(header(sent[0], "authorization") == basic(t.account_sid, t.auth_token));
  BOOST_TEST((form(sent[0].body) == Form{{"To", "+15551234567"}, {"Channel", "sms"}}));
  BOOST_TEST(sent[1].path == "/v2/Services/" + t.service_sid + "/VerificationCheck");
  const Form check = form(sent[1].body);
  BOOST_TEST(check.size() == 2u);
  BOOST_TEST(check.at("Code").size() == 6u);
  BOOST_TEST(check.at("VerificationSid").rfind("VE", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(voice_uses_twilios_call_channel) {
  pam.write_users("alice phone=+15551234567 channel=voice\n");
  use_twilio(*this);
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(form(requests().at(0).body).at("Channel") == "call");
}

BOOST_AUTO_TEST_CASE(a_pending_200_is_a_wrong_code) {
  use_twilio(*this);
  wrong_then_right("alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(max_check_attempts_60202_locks_with_retry_after) {
  configure([](otp::mock::Dialects& d) { d.twilio.max_check_attempts = 2; });
  use_twilio(*this);
  const auto r = wrong_codes("alice", kAlicePhone, 3);
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_MAXTRIES);
  BOOST_TEST(r.logged("result=locked"));
  BOOST_TEST(r.errors.back().find("Try again in") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(max_send_attempts_60203_is_a_rate_limit) {
  configure([](otp::mock::Dialects& d) { d.twilio.max_send_attempts = 1; });
  use_twilio(*this, "", "resend_cooldown = 0");
  const auto r = login("alice", {say(""), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_MAXTRIES);
  BOOST_TEST(r.logged("result=rate_limited"));
}

BOOST_AUTO_TEST_CASE(expired_20404) {
  use_twilio(*this, "", "resends = 0");
  const auto r = login("alice", {expire_then_answer(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.errors.at(0) == "The code has expired.");
}

BOOST_AUTO_TEST_CASE(bad_auth_token) {
  use_twilio(*this, "not-the-token");
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(!r.logged("not-the-token"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_FIXTURE_TEST_SUITE(preset_privacyidea, PresetFixture)

BOOST_AUTO_TEST_CASE(challenge_then_code_and_the_exact_requests) {
  pam.write_users("alice\n");  // privacyIDEA knows where to send
  use("preset = \"privacyidea\"\n");
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  const auto sent = requests();
  BOOST_REQUIRE(sent.size() == 2u);
  BOOST_TEST(sent[0].path == "/validate/check");
  BOOST_TEST((form(sent[0].body) == Form{{"user", "alice"}, {"pass", ""}}));
  const Form second = form(sent[1].body);
  BOOST_TEST(second.size() == 3u);
  BOOST_TEST(second.at("user") == "alice");
  BOOST_TEST(second.at("pass").size() == 6u);
  BOOST_TEST(second.at("transaction_id").size() == 20u);
  BOOST_TEST(header(sent[0], "authorization").empty());
  // The server's challenge message is shown before the prompt.
  BOOST_TEST(r.infos.at(0) == "Please enter otp from your SMS");
}

BOOST_AUTO_TEST_CASE(realm_pin_and_user_mapping) {
  pam.write_users("carol\n");
  use("preset = \"privacyidea\"\nrealm = \"corp\"\ntrigger_pass = \"1234\"\nuser = \"bob\"\n");
  const auto r = login("carol", {code_for("+15557654321")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST((form(requests().at(0).body) == Form{{"user", "bob"}, {"realm", "corp"}, {"pass", "1234"}}));
  BOOST_TEST(!r.logged("pass=1234"));
}

// privacyIDEA answers a wrong code and an expired challenge alike: the user
// is told it may have expired, and Enter gets a new code at once.
BOOST_AUTO_TEST_CASE(reject_is_a_wrong_or_expired_code) {
  pam.write_users("alice\n");
  use("preset = \"privacyidea\"\n");
  const auto r = login("alice", {wrong_code_for(kAlicePhone), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.errors.at(0) == "Incorrect or expired code, 2 attempts left. Press Enter for a new code.");
  // An expired challenge, then Enter: a new code at once, no cooldown.
  Shared::mock().reset();
  const auto expired = login("alice", {expire_then_answer(kAlicePhone), say(""), code_for(kAlicePhone)});
  BOOST_TEST_INFO(expired.describe());
  BOOST_TEST(expired.rc == PAM_SUCCESS);
  BOOST_TEST(expired.errors.at(0) == "Incorrect or expired code, 2 attempts left. Press Enter for a new code.");
  BOOST_TEST(Shared::mock().outbox().size() == 2u);
  BOOST_TEST(expired.logged("attempts=2"));
}

// The right code for a locked token: privacyIDEA's words say the code
// matched, so the user sees pam_otp's own text; the log keeps them.
BOOST_AUTO_TEST_CASE(failcounter_exceeded_is_a_lockout_that_does_not_say_the_code_was_right) {
  configure([](otp::mock::Dialects& d) { d.privacyidea.max_fail = 2; });
  pam.write_users("alice\n");
  use("preset = \"privacyidea\"\n");
  const auto r = login("alice", {wrong_code_for(kAlicePhone), wrong_code_for(kAlicePhone), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_MAXTRIES);
  BOOST_TEST(r.errors.back() == "Too many attempts.");
  for (const auto& e : r.errors) BOOST_TEST(e.find("matches") == std::string::npos);
  BOOST_TEST(r.logged("result=locked"));
  BOOST_TEST(r.logged("Challenge matches, but token is not fit for challenge. Failcounter exceeded"));
  // The next login is refused at the first leg.
  const auto next = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST(next.rc == PAM_MAXTRIES);
  BOOST_TEST(next.prompts.size() == 1u);  // the password only
}

// The causes of a first-leg REJECT, told apart as privacyIDEA 3.11 words them.
BOOST_AUTO_TEST_CASE(first_leg_rejects_are_classified) {
  pam.write_users("alice\ncarol\n");
  // The SMS gateway is down: nothing was sent, so the service is
  // unavailable and failmode applies (safe: the password decides).
  configure([](otp::mock::Dialects& d) { d.privacyidea.gateway_down = true; });
  use("preset = \"privacyidea\"\n");
  const auto down = login("alice", {});
  BOOST_TEST_INFO(down.describe());
  BOOST_TEST(down.rc == PAM_AUTHINFO_UNAVAIL);
  BOOST_TEST(down.logged("the SMS could not be sent"));
  use("preset = \"privacyidea\"\n", "failmode = \"safe\"");
  const auto safe = login("alice", {});
  BOOST_TEST(safe.rc == PAM_SUCCESS);  // pam_matrix's, with pam_otp's PAM_IGNORE
  BOOST_TEST(safe.logged("result=failopen"));
  // A disabled token: said to be disabled, not "too many attempts".
  configure([](otp::mock::Dialects& d) {
    d.privacyidea.gateway_down = false;
    d.privacyidea.users["alice"].disabled = true;
  });
  use("preset = \"privacyidea\"\n");
  const auto disabled = login("alice", {});
  BOOST_TEST_INFO(disabled.describe());
  BOOST_TEST(disabled.rc == PAM_AUTH_ERR);
  BOOST_TEST(disabled.errors.back() == "Your one-time code token is disabled. Ask your administrator.");
  BOOST_TEST(disabled.logged("result=disabled"));
  BOOST_TEST(disabled.logged("No active challenge response token found"));
  // No token at all: not enrolled at the provider.
  configure([](otp::mock::Dialects& d) {
    d.privacyidea.users["alice"].disabled = false;
    d.privacyidea.users["carol"] = {"", "", "", "", false};
  });
  const auto none = login("carol", {});
  BOOST_TEST_INFO(none.describe());
  BOOST_TEST(none.rc == PAM_AUTH_ERR);
  BOOST_TEST(none.logged("The user has no tokens assigned"));
}

BOOST_AUTO_TEST_CASE(sms_and_email_tokens_are_both_logged) {
  configure([](otp::mock::Dialects& d) { d.privacyidea.users["alice"].email = "alice@example.com"; });
  pam.write_users("alice\n");
  use("preset = \"privacyidea\"\n");
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(Shared::mock().outbox().size() == 2u);
  BOOST_TEST(r.logged("result=success user=alice"));
  BOOST_TEST(r.logged("channel=sms+email"));
}

BOOST_AUTO_TEST_CASE(unknown_user_and_wrong_pin) {
  pam.write_users("dave\nalice\n");
  use("preset = \"privacyidea\"\n");
  const auto dave = login("dave", {});
  BOOST_TEST_INFO(dave.describe());
  BOOST_TEST(dave.rc == PAM_AUTH_ERR);  // ERR904: not in any resolver
  use("preset = \"privacyidea\"\ntrigger_pass = \"9999\"\n");
  const auto alice = login("alice", {});
  BOOST_TEST_INFO(alice.describe());
  BOOST_TEST(alice.rc == PAM_AUTH_ERR);  // REJECT at the first leg: wrong PIN
  BOOST_TEST(alice.logged("the token PIN is not trigger_pass"));
  BOOST_TEST(alice.logged("result=wrong_pin"));  // a PIN problem, not an unknown user
  BOOST_TEST(dave.logged("ERR904"));
  BOOST_TEST(dave.logged("result=rejected"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_FIXTURE_TEST_SUITE(preset_blockid, PresetFixture)

void use_blockid(PresetFixture& f, const std::string& license = "", const std::string& extra = "") {
  const auto& b = f.dialects.blockid;
  f.use("preset = \"blockid\"\ntenant_id = \"" + b.tenant_id + "\"\ncommunity_id = \"" + b.community_id +
        "\"\nlicense_key = \"" + (license.empty() ? b.license_key : license) + "\"\ncommunity_public_key = \"" +
        Shared::mock().community_public_key() + "\"\n" + extra);
}

BOOST_AUTO_TEST_CASE(sms_login_and_the_exact_request) {
  use_blockid(*this);
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  const auto sent = requests();
  BOOST_REQUIRE(sent.size() == 2u);
  BOOST_TEST(sent[0].path == "/api/r2/otp/generate");
  const Json::Value generate = body(sent[0]);
  BOOST_TEST(generate["userId"].asString() == "alice");
  BOOST_TEST(generate["smsTo"].asString() == "5551234567");
  BOOST_TEST(generate["smsISDCode"].asString() == "1");
  BOOST_TEST(generate["tenantId"].asString() == dialects.blockid.tenant_id);
  BOOST_TEST(generate["communityId"].asString() == dialects.blockid.community_id);
  BOOST_TEST(header(sent[0], "charset") == "utf-8");
  BOOST_TEST(otp::base64_decode(header(sent[0], "publickey"))->size() == 64u);
  BOOST_TEST(!header(sent[0], "licensekey").empty());
  BOOST_TEST(!header(sent[0], "requestid").empty());
  BOOST_TEST(sent[1].path == "/api/r2/otp/verify");
  BOOST_TEST(body(sent[1]).size() == 4u);
}

BOOST_AUTO_TEST_CASE(email_user_id_and_fixed_key) {
  pam.write_users("bob email=bob@example.com channel=email user_id=bob-blockid-7\n");
  // A fixed caller key: the scalar 7, base64.
  use_blockid(*this, "", "private_key = \"" + otp::base64_encode(std::string(31, '\0') + "\x07") + "\"\n");
  const auto r = login("bob", {code_for("bob@example.com")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  const auto sent = requests();
  BOOST_TEST(body(sent.at(0))["emailTo"].asString() == "bob@example.com");
  BOOST_TEST(body(sent.at(0))["userId"].asString() == "bob-blockid-7");
  BOOST_TEST(header(sent.at(0), "publickey") == header(sent.at(1), "publickey"));
}

BOOST_AUTO_TEST_CASE(status_true_as_a_string) {
  configure([](otp::mock::Dialects& d) { d.blockid.status_as_string = true; });
  use_blockid(*this);
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
}

BOOST_AUTO_TEST_CASE(wrong_codes_lock_for_15_minutes) {
  use_blockid(*this);
  const auto first = wrong_codes("alice", kAlicePhone, 3);
  BOOST_TEST_INFO(first.describe());
  BOOST_TEST(first.rc == PAM_MAXTRIES);
  BOOST_TEST(first.errors.at(0) == "Incorrect code, 2 attempts left.");
  // More than 5 wrong codes in 30 minutes: the 6th locks the user.
  const auto second = wrong_codes("alice", kAlicePhone, 3);
  BOOST_TEST_INFO(second.describe());
  BOOST_TEST(second.rc == PAM_MAXTRIES);
  BOOST_TEST(second.errors.back() == "OTP request locked for the user. Try again in 15 minutes.");
}

BOOST_AUTO_TEST_CASE(expired_code) {
  use_blockid(*this);
  expired_then_resend("alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(wrong_then_right_code) {
  use_blockid(*this);
  wrong_then_right("alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(bad_license_key) {
  use_blockid(*this, "not-the-license");
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(!r.logged("not-the-license"));
}

// One code by SMS and e-mail at once, in one request, as BlockID's guide
// sends it; the prompt shows both masked destinations.
BOOST_AUTO_TEST_CASE(sms_and_email_at_once) {
  pam.write_users("alice phone=+15551234567 email=alice@example.com channel=sms+email\n");
  use_blockid(*this);
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.prompts.at(1) == "Code sent to +1******4567 and a***@example.com (Enter for a new one): ");
  const auto generate = requests().at(0);
  const auto sent = body(generate);
  BOOST_TEST(sent["smsTo"].asString() == "5551234567");
  BOOST_TEST(sent["smsISDCode"].asString() == "1");
  BOOST_TEST(sent["emailTo"].asString() == "alice@example.com");
  BOOST_TEST(Shared::mock().outbox().size() == 2u);
  BOOST_TEST(r.logged("channel=sms+email"));
  BOOST_TEST(r.logged("destination=\"+1******4567 and a***@example.com\""));
}

BOOST_AUTO_TEST_CASE(generate_may_answer_200) {
  configure([](otp::mock::Dialects& d) { d.blockid.generate_status = 200; });
  pam.write_users("alice phone=+15551234567\n");
  use_blockid(*this);
  const auto r = login("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
BOOST_FIXTURE_TEST_SUITE(preset_baanx, PresetFixture)

void use_baanx(PresetFixture& f, const std::string& key = "") {
  f.use("preset = \"baanx\"\nclient_key = \"" + (key.empty() ? f.dialects.baanx.client_key : key) + "\"\n");
}

BOOST_AUTO_TEST_CASE(three_calls_with_the_password_from_the_stack) {
  pam.write_users("alice email=alice@example.com\n");
  use_baanx(*this);
  const auto r = login_with_authtok("alice", "alice-password", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  const auto sent = requests();
  BOOST_REQUIRE(sent.size() == 3u);
  BOOST_TEST(sent[0].path == "/v1/auth/login");
  BOOST_TEST(otp::json::to_string(body(sent[0])) == R"({"email":"alice@example.com","password":"alice-password"})");
  BOOST_TEST(header(sent[0], "x-client-key") == dialects.baanx.client_key);
  BOOST_TEST(header(sent[0], "x-us-env") == "false");
  BOOST_TEST(sent[1].path == "/v1/auth/login/otp");
  BOOST_TEST(body(sent[1]).size() == 1u);
  BOOST_TEST(body(sent[1]).isMember("userId"));
  BOOST_TEST(sent[2].path == "/v1/auth/login");
  BOOST_TEST(body(sent[2]).isMember("otpCode"));
  BOOST_TEST(r.prompts.size() == 1u);  // the code only: the password came from the stack
  BOOST_TEST(r.prompts.at(0).find("+1******4567") != std::string::npos);
  BOOST_TEST(!r.logged("alice-password"));
}

BOOST_AUTO_TEST_CASE(wrong_password_at_baanx_sends_nothing) {
  pam.write_users("carol email=alice@example.com\n");  // carol's password is not alice's
  use_baanx(*this);
  const auto r = login_with_authtok("carol", "carol-password", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(requests().size() == 1u);  // the login only
  BOOST_TEST(Shared::mock().outbox().empty());
}

BOOST_AUTO_TEST_CASE(no_code_when_baanx_requires_none) {
  // No code verified is no success: the user counts as unenrolled, and the
  // default unenrolled = "deny" refuses (bypass_integration_test.cc has both settings).
  pam.write_users("alice email=olive@example.com\n");
  configure([](otp::mock::Dialects& d) { d.baanx.users["olive@example.com"].password = "alice-password"; });
  use_baanx(*this);
  const auto r = login_with_authtok("alice", "alice-password", {});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.prompts.empty());  // no code asked
  BOOST_TEST(r.logged("result=unenrolled"));
  BOOST_TEST(requests().size() == 1u);
}

BOOST_AUTO_TEST_CASE(wrong_code_prompts_again) {
  pam.write_users("alice email=alice@example.com\n");
  use_baanx(*this);
  authtok_from_stack = true;
  wrong_then_right("alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(too_many_wrong_codes) {
  pam.write_users("alice email=alice@example.com\n");
  use_baanx(*this);
  authtok_from_stack = true;
  locked_after(2, "alice", kAlicePhone);
}

BOOST_AUTO_TEST_CASE(asks_for_the_password_when_no_module_gave_one) {
  pam.write_users("alice email=alice@example.com\n");
  use_baanx(*this);
  pam.password_control = "";
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.prompts.at(0) == "Password: ");
  BOOST_TEST(r.echo.at(0) == false);
}

BOOST_AUTO_TEST_CASE(bad_client_key) {
  pam.write_users("alice email=alice@example.com\n");
  use_baanx(*this, "wrong-client-key");
  const auto r = login_with_authtok("alice", "alice-password", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Each provider's own answers, as its SDK names them or its guide documents
// them (tests/conformance has their sources), replayed by the mock as the
// exact answer to one send or verify, through real libpam: the outcome and
// what the user is told. (One attempt, no resend, so each outcome has one
// PAM code.)
BOOST_FIXTURE_TEST_SUITE(provider_answers, PresetFixture)

struct AnswerCase {
  const char* name;
  std::string preset;     // stytch, descope, twilio_verify, blockid
  bool at_verify;
  int status;
  std::string body;
  int rc;
  const char* result;     // the log's result=
  const char* shown;      // the last message the user saw ("" = not checked)
};

void use_preset(PresetFixture& f, const std::string& preset) {
  const std::string top = "attempts = 1\nresends = 0";
  if (preset == "stytch") preset_stytch::use_stytch(f, "", "", top);
  else if (preset == "descope") preset_descope::use_descope(f, "", top);
  else if (preset == "twilio_verify") preset_twilio_verify::use_twilio(f, "", top);
  else preset_blockid::use_blockid(f, "", "");
  if (preset == "blockid") {  // (use_blockid takes no top lines)
    std::string text = read_file(f.pam.config_path());
    f.pam.write_config(top + "\n" + text);
  }
}

std::string path_of(const PresetFixture& f, const std::string& preset, bool verify) {
  if (preset == "stytch") return verify ? "/v1/otps/authenticate" : "/v1/otps/sms/send";
  if (preset == "descope") return verify ? "/v1/auth/otp/verify/sms" : "/v1/auth/otp/signin/sms";
  if (preset == "twilio_verify")
    return "/v2/Services/" + f.dialects.twilio.service_sid + (verify ? "/VerificationCheck" : "/Verifications");
  return verify ? "/api/r2/otp/verify" : "/api/r2/otp/generate";
}

BOOST_AUTO_TEST_CASE(each_providers_own_answers) {
  auto stytch = [](int status, const std::string& type, const std::string& message) {
    return "{\"status_code\":" + std::to_string(status) + ",\"request_id\":\"request-id-test-1\",\"error_type\":\"" +
           type + "\",\"error_message\":\"" + message + "\",\"error_url\":\"https://stytch.com/docs/api/errors/" +
           std::to_string(status) + "\"}";
  };
  const std::vector<AnswerCase> cases = {
      {"stytch user_not_found", "stytch", false, 404, stytch(404, "user_not_found", "User could not be found."),
       PAM_AUTH_ERR, "rejected", "Authentication failed."},
      {"stytch inactive_email", "stytch", false, 400, stytch(400, "inactive_email", "The email is inactive."),
       PAM_AUTH_ERR, "rejected", ""},
      {"stytch unsubscribed_phone_number", "stytch", false, 400,
       stytch(400, "unsubscribed_phone_number", "The phone number has unsubscribed."), PAM_AUTH_ERR, "rejected", ""},
      {"stytch too_few_tokens_authenticated", "stytch", false, 429,
       stytch(429, "too_few_tokens_authenticated", "Too few tokens."), PAM_MAXTRIES, "rate_limited", ""},
      {"stytch captcha_failed", "stytch", false, 429, stytch(429, "captcha_failed", "Captcha failed."), PAM_MAXTRIES,
       "rate_limited", ""},
      {"descope E061104", "descope", true, 400,
       R"({"errorCode":"E061104","errorDescription":"One-time code expired","errorMessage":"The code has expired"})",
       PAM_AUTH_ERR, "expired", "The code has expired."},
      {"descope E130429", "descope", false, 429,
       R"({"errorCode":"E130429","errorDescription":"https://docs.descope.com/rate-limit","errorMessage":"Too many requests, slow down"})",
       PAM_MAXTRIES, "rate_limited", "Too many requests, slow down"},
      {"twilio 60205", "twilio_verify", false, 403,
       R"({"code":60205,"message":"SMS is not supported by landline phone number","more_info":"https://www.twilio.com/docs/errors/60205","status":403})",
       PAM_AUTH_ERR, "rejected", ""},
      {"twilio check max_attempts_reached", "twilio_verify", true, 200,
       R"({"sid":"VE00000000000000000000000000000000","status":"max_attempts_reached","valid":false})", PAM_MAXTRIES,
       "locked", "Too many attempts."},
      {"twilio check expired", "twilio_verify", true, 200,
       R"({"sid":"VE00000000000000000000000000000000","status":"expired","valid":false})", PAM_AUTH_ERR, "expired", ""},
      {"twilio check canceled", "twilio_verify", true, 200,
       R"({"sid":"VE00000000000000000000000000000000","status":"canceled","valid":false})", PAM_AUTH_ERR, "expired", ""},
      {"blockid status false", "blockid", true, 200, R"({"error_code":1001,"message":"OTP verification failed","status":false})",
       PAM_MAXTRIES, "max_tries", "Incorrect code. No attempts left."},
      {"blockid Invalid OTP.", "blockid", true, 400, R"({"error_code":404,"message":"Invalid OTP.","status":false})",
       PAM_MAXTRIES, "max_tries", ""},
  };
  for (const auto& c : cases) {
    Shared::mock().reset();
    use_preset(*this, c.preset);
    otp::mock::Fault fault;
    fault.path = path_of(*this, c.preset, c.at_verify);
    fault.status = c.status;
    fault.body = c.body;
    fault.count = 1;
    if (!c.at_verify) Shared::mock().set_fault(fault);
    Responder answer = [&](const std::string& prompt) {
      if (c.at_verify) Shared::mock().set_fault(fault);
      return code_for(kAlicePhone)(prompt);
    };
    const auto r = login("alice", {answer});
    Shared::mock().clear_fault();
    BOOST_TEST_INFO(c.name << "\n" << r.describe());
    BOOST_TEST(r.rc == c.rc);
    BOOST_TEST(r.logged(std::string("result=") + c.result));
    if (*c.shown != '\0') BOOST_TEST((!r.errors.empty() && r.errors.back() == c.shown));
  }
}

BOOST_AUTO_TEST_SUITE_END()
