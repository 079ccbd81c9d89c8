// What all dialects share: one mock serving them together, settings through
// the C++ API and /mock/dialects, and the common outbox and forced code.
#include "dialects/blockid_client.h"
#include "dialects/blockid_crypto.h"
#include "dialects/dialect.h"
#include "dialects/dialect_test_support.h"
#include "mock_json.h"

namespace {

using namespace otp::mock;
using namespace otp::mock::testing;

HttpResult control(DialectMock& m, const Json::Value& body) {
  return m.client.request("POST", m.url("/mock/dialects"), to_text(body),
                          {"Content-Type: application/json"});
}

constexpr char kPhone[] = "+15551234567";

// One send in each dialect's own wire format, all to kPhone.
struct AllDialects : DialectMock {
  long stytch() {
    const StytchSettings s;
    return post_json("/v1/otps/sms/send", object({{"phone_number", kPhone}}),
                     {basic_auth_header(s.project_id, s.secret)})
        .status;
  }
  long descope() {
    return post_json("/v1/auth/otp/signin/sms", object({{"loginId", kPhone}}),
                     {"Authorization: Bearer P2pamotpTEST0000000000000000"})
        .status;
  }
  long twilio() {
    const TwilioSettings s;
    return post_form("/v2/Services/" + s.service_sid + "/Verifications",
                     {{"To", kPhone}, {"Channel", "sms"}},
                     {basic_auth_header(s.account_sid, s.auth_token)})
        .status;
  }
  long privacyidea() {
    return post_form("/validate/check", {{"user", "alice"}, {"pass", ""}}, {}).status;
  }
  long blockid() {
    const BlockIdSettings s;
    const Json::Value body = object({{"userId", "alice"},
                                     {"tenantId", s.tenant_id},
                                     {"communityId", s.community_id},
                                     {"smsTo", "5551234567"},
                                     {"smsISDCode", "1"}});
    const BlockIdClient caller(mock.community_public_key());
    return client
        .request("POST", url("/api/r2/otp/generate"), to_text(body),
                 caller.headers(s.license_key, BlockIdClient::now()))
        .status;
  }
  long baanx() {  // steps 1 and 2
    const std::vector<std::string> h{"x-client-key: baanx-test-client-key", "x-us-env: false"};
    const HttpResult login =
        post_json("/v1/auth/login",
                  object({{"email", "alice@example.com"}, {"password", "alice-password"}}), h);
    return post_json("/v1/auth/login/otp", object({{"userId", login.json()["userId"]}}), h).status;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(dialects_shared)

BOOST_FIXTURE_TEST_CASE(one_mock_serves_every_dialect_through_one_outbox, AllDialects) {
  const std::vector<std::pair<long (AllDialects::*)(), long>> sends{
      {&AllDialects::stytch, 200},      {&AllDialects::descope, 200}, {&AllDialects::twilio, 201},
      {&AllDialects::privacyidea, 200}, {&AllDialects::blockid, 202}, {&AllDialects::baanx, 200}};
  int n = 0;
  for (const auto& [send, status] : sends) {
    // Each dialect honours the forced code and delivers to the shared outbox.
    const std::string code = "10000" + std::to_string(++n);
    mock.set_next_code(code);
    BOOST_TEST((this->*send)() == status, "dialect " << n);
    BOOST_TEST(code_for(kPhone) == code);
  }
  BOOST_TEST(mock.outbox().size() == 6u);
  BOOST_TEST(mock.requests().size() == 7u);  // Baanx took two calls
  // The generic API is still there beside them.
  BOOST_TEST(client
                 .post(url("/v1/otp/send"),
                       object({{"user", "alice"}, {"channel", "sms"}, {"to", kPhone}}))
                 .status == 200);
  mock.reset();
  BOOST_TEST(mock.outbox().empty());
  BOOST_TEST(mock.requests().empty());
}

BOOST_FIXTURE_TEST_CASE(configure_and_read_back, DialectMock) {
  Dialects d = mock.dialects();
  BOOST_TEST(d.twilio.max_check_attempts == 5);
  BOOST_TEST(d.privacyidea.users.at("bob").realm == "corp");
  BOOST_TEST(d.baanx.users.at("olive@example.com").otp_required == false);
  d.twilio.max_check_attempts = 2;
  mock.configure_dialects(d);
  BOOST_TEST(mock.dialects().twilio.max_check_attempts == 2);

  Dialects bad = d;
  bad.twilio.max_send_attempts = 0;
  BOOST_CHECK_THROW(mock.configure_dialects(bad), std::invalid_argument);
  bad = d;
  bad.privacyidea.users["carol"] = PrivacyIdeaUser{"", "", "5551234567", "", false};  // not E.164
  BOOST_CHECK_THROW(mock.configure_dialects(bad), std::invalid_argument);
  BOOST_TEST(mock.dialects().privacyidea.users.count("carol") == 0u);  // unchanged
}

BOOST_FIXTURE_TEST_CASE(control_route_reads_and_partially_updates, DialectMock) {
  const HttpResult got = client.get(url("/mock/dialects"));
  BOOST_TEST_REQUIRE(got.status == 200);
  const Json::Value v = got.json();
  BOOST_TEST(v["stytch"]["project_id"].asString() ==
             "project-test-00000000-0000-4000-8000-000000000000");
  BOOST_TEST(v["descope"]["project_id"].asString() == "P2pamotpTEST0000000000000000");
  BOOST_TEST(v["twilio"]["service_sid"].asString() == "VA00000000000000000000000000000000");
  BOOST_TEST(v["privacyidea"]["users"]["alice"]["phone"].asString() == "+15551234567");
  BOOST_TEST(v["blockid"]["license_key"].asString() == "blockid-test-license");
  BOOST_TEST(v["blockid"]["community_public_key"].asString() == mock.community_public_key());
  BOOST_TEST(v["baanx"]["users"]["alice@example.com"]["otp_required"].asBool() == true);

  Json::Value update(Json::objectValue);
  update["twilio"]["max_send_attempts"] = 2;
  update["stytch"]["known_destinations"].append("+15551234567");
  const HttpResult posted = control(*this, update);
  BOOST_TEST(posted.status == 200, posted.body);
  BOOST_TEST(posted.json()["twilio"]["max_send_attempts"].asInt() == 2);
  BOOST_TEST(mock.dialects().twilio.max_send_attempts == 2);
  BOOST_TEST(mock.dialects().twilio.max_check_attempts == 5);  // untouched
  BOOST_TEST(mock.dialects().stytch.known_destinations.size() == 1u);

  Json::Value wrong(Json::objectValue);
  wrong["twilio"]["max_check_attempts"] = "many";
  const HttpResult rejected = control(*this, wrong);
  BOOST_TEST(rejected.status == 400);
  BOOST_TEST(rejected.json()["message"].asString() == "twilio.max_check_attempts");
  BOOST_TEST(control(*this, object({{"baanx", "x"}})).status == 400);
  BOOST_TEST(mock.dialects().twilio.max_check_attempts == 5);
  BOOST_TEST(mock.requests().empty());  // /mock/ calls are not recorded
}

// The list in dialect_kinds.cc is the whole registry: each dialect there has
// routes and a section of /mock/dialects that reads what it shows, with
// errors that name the section.
BOOST_AUTO_TEST_CASE(every_listed_dialect_has_routes_and_a_settings_section) {
  const Dialects defaults;
  const Json::Value shown = to_json(defaults);
  BOOST_TEST(shown.size() == dialect_kinds().size());  // names are distinct
  const CommunityKey community("");
  for (const DialectKind* kind : dialect_kinds()) {
    BOOST_TEST_INFO(kind->name);
    BOOST_TEST(shown.isMember(kind->name));
    BOOST_TEST(!kind->make(DialectSetup{community})->routes().empty());
    // apply() reads every field its section shows: a value of the wrong
    // type in any of them is refused, named "section.field".
    for (const auto& field : shown[kind->name].getMemberNames()) {
      Json::Value wrong(Json::objectValue);
      wrong[kind->name][field].append(Json::Value(Json::objectValue));
      Dialects d;
      try {
        apply_json(wrong, d);
        BOOST_ERROR(kind->name << "." << field << " accepted a list of objects");
      } catch (const std::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()) == std::string(kind->name) + "." + field);
      }
    }
  }
  Json::Value bad(Json::objectValue);
  bad["descope"]["session"] = "stolen";
  Dialects d;
  try {
    apply_json(bad, d);
    BOOST_FAIL("accepted descope.session = stolen");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) == "descope.session");
  }
  BOOST_TEST(d.descope.session == "opaque");  // all or nothing
}

BOOST_FIXTURE_TEST_CASE(unknown_dialect_paths_are_404_and_recorded, DialectMock) {
  BOOST_TEST(post_json("/v1/otps/sms/resend", object({}), {}).status == 404);
  BOOST_TEST(post_json("/api/r2/otp/other", object({}), {}).status == 404);
  BOOST_TEST(client.get(url("/validate/check")).status == 404);  // POST only
  BOOST_TEST(mock.requests().size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
