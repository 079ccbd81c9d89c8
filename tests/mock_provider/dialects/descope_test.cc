// The Descope dialect over real TLS, as providers.md describes the wire.
#include "dialects/dialect_test_support.h"
#include "mock_json.h"

namespace {

using namespace otp::mock;
using namespace otp::mock::testing;

constexpr char kPhone[] = "+15551234567";

struct Descope : DialectMock {
  std::string auth = "Authorization: Bearer P2pamotpTEST0000000000000000";
  HttpResult signin(const std::string& method, const std::string& login_id) {
    return post_json("/v1/auth/otp/signin/" + method, object({{"loginId", login_id}}), {auth});
  }
  HttpResult verify(const std::string& method, const std::string& login_id,
                    const std::string& code) {
    return post_json("/v1/auth/otp/verify/" + method,
                     object({{"loginId", login_id}, {"code", code}}), {auth});
  }
};

void check_error(const HttpResult& r, int status, const std::string& code) {
  BOOST_TEST(r.status == status);
  BOOST_TEST(r.json()["errorCode"].asString() == code);
  BOOST_TEST(!r.json()["errorDescription"].asString().empty());
  BOOST_TEST(!r.json()["errorMessage"].asString().empty());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(descope)

BOOST_FIXTURE_TEST_CASE(sms_signin_then_verify, Descope) {
  const HttpResult r = signin("sms", kPhone);
  BOOST_TEST_REQUIRE(r.status == 200, r.body);
  BOOST_TEST(r.json()["maskedPhone"].asString() == "+*******4567");
  BOOST_TEST(r.json().size() == 1u);
  const auto box = mock.outbox();
  BOOST_TEST_REQUIRE(box.size() == 1u);
  BOOST_TEST(box[0].to == kPhone);
  BOOST_TEST(box[0].channel == "sms");
  BOOST_TEST(box[0].user == kPhone);

  const HttpResult ok = verify("sms", kPhone, box[0].code);
  BOOST_TEST_REQUIRE(ok.status == 200, ok.body);
  const Json::Value body = ok.json();
  BOOST_TEST(!body["sessionJwt"].asString().empty());
  BOOST_TEST(!body["refreshJwt"].asString().empty());
  BOOST_TEST(body["sessionJwt"].asString() != body["refreshJwt"].asString());
  BOOST_TEST_REQUIRE(body["user"]["loginIds"].isArray());
  BOOST_TEST(body["user"]["loginIds"][0].asString() == kPhone);
}

BOOST_FIXTURE_TEST_CASE(records_the_exact_request, Descope) {
  BOOST_TEST(signin("voice", kPhone).status == 200);
  const RecordedRequest r = last_request();
  BOOST_TEST(r.path == "/v1/auth/otp/signin/voice");
  BOOST_TEST(r.body == R"({"loginId":"+15551234567"})");
  BOOST_TEST(header_of(r, "authorization") == "Bearer P2pamotpTEST0000000000000000");
  BOOST_TEST(header_of(r, "content-type") == "application/json");
  BOOST_TEST(mock.outbox().back().channel == "voice");
}

BOOST_FIXTURE_TEST_CASE(email_and_mapped_login_ids, Descope) {
  const HttpResult email = signin("email", "alice@example.com");
  BOOST_TEST_REQUIRE(email.status == 200, email.body);
  BOOST_TEST(email.json()["maskedEmail"].asString() == "a***@example.com");
  BOOST_TEST(verify("email", "alice@example.com", code_for("alice@example.com")).status == 200);

  Dialects d;
  d.descope.phones = {{"alice", "+15559876543"}};
  mock.configure_dialects(d);
  const HttpResult mapped = signin("whatsapp", "alice");
  BOOST_TEST_REQUIRE(mapped.status == 200, mapped.body);
  BOOST_TEST(mapped.json()["maskedPhone"].asString() == "+*******6543");
  BOOST_TEST(verify("whatsapp", "alice", code_for("+15559876543")).status == 200);
  // No e-mail known for "alice", and "alice" is none.
  check_error(signin("email", "alice"), 400, "E011003");
}

BOOST_FIXTURE_TEST_CASE(wrong_then_right_then_used, Descope) {
  BOOST_TEST(signin("sms", kPhone).status == 200);
  const std::string code = code_for(kPhone);
  check_error(verify("sms", kPhone, wrong_code(code)), 401, "E061102");
  // A code sent by SMS does not verify as an e-mail code.
  check_error(verify("email", kPhone, code), 401, "E061102");
  BOOST_TEST(verify("sms", kPhone, code).status == 200);
  check_error(verify("sms", kPhone, code), 401, "E061102");
}

BOOST_FIXTURE_TEST_CASE(expiry_and_superseded_codes, Descope) {
  BOOST_TEST(signin("sms", kPhone).status == 200);
  const std::string first = code_for(kPhone);
  mock.expire_codes();
  check_error(verify("sms", kPhone, first), 401, "E061102");

  BOOST_TEST(signin("sms", kPhone).status == 200);
  const std::string old_code = code_for(kPhone);
  mock.set_next_code(wrong_code(old_code));
  BOOST_TEST(signin("sms", kPhone).status == 200);
  check_error(verify("sms", kPhone, old_code), 401, "E061102");
  BOOST_TEST(verify("sms", kPhone, wrong_code(old_code)).status == 200);
}

BOOST_FIXTURE_TEST_CASE(lockout_after_max_failures, Descope) {
  limit(2, 100);
  BOOST_TEST(signin("sms", kPhone).status == 200);
  const std::string code = code_for(kPhone);
  check_error(verify("sms", kPhone, wrong_code(code)), 401, "E061102");
  check_error(verify("sms", kPhone, wrong_code(code)), 403, "E061103");
  check_error(verify("sms", kPhone, code), 403, "E061103");
  check_error(signin("sms", kPhone), 403, "E061103");
  BOOST_TEST(verify("sms", kPhone, code).header("retry-after").empty());
  mock.reset();
  BOOST_TEST(signin("sms", kPhone).status == 200);
}

BOOST_FIXTURE_TEST_CASE(send_rate_limit_with_retry_after, Descope) {
  MockSettings s;
  s.max_sends = 1;
  s.send_window_seconds = 60;
  mock.configure(s);
  BOOST_TEST(signin("sms", kPhone).status == 200);
  const HttpResult limited = signin("sms", kPhone);
  check_error(limited, 429, "E130429");
  const int retry = std::atoi(limited.header("retry-after").c_str());
  BOOST_TEST((retry > 0 && retry <= 60), limited.header("retry-after"));
  BOOST_TEST(mock.outbox().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(unknown_and_missing_login_id, Descope) {
  Dialects d;
  d.descope.known_login_ids = {kPhone};
  mock.configure_dialects(d);
  check_error(signin("sms", "+15550000000"), 400, "E062108");
  check_error(post_json("/v1/auth/otp/signin/sms", object({}), {auth}), 400, "E011003");
  check_error(post_json("/v1/auth/otp/verify/sms", object({{"loginId", kPhone}}), {auth}), 400,
              "E011003");
  check_error(signin("sms", ""), 400, "E011003");
  BOOST_TEST(mock.outbox().empty());
  BOOST_TEST(
      post_json("/v1/auth/otp/signin/pigeon", object({{"loginId", kPhone}}), {auth}).status == 404);
}

BOOST_FIXTURE_TEST_CASE(bad_credentials_and_management_key, Descope) {
  auth = "Authorization: Bearer P2wrong";
  check_error(signin("sms", kPhone), 401, "E011002");
  auth = "";
  check_error(signin("sms", kPhone), 401, "E011002");

  Dialects d;
  d.descope.management_key = "K2secret";
  mock.configure_dialects(d);
  auth = "Authorization: Bearer P2pamotpTEST0000000000000000";
  check_error(signin("sms", kPhone), 401, "E011002");
  auth = "Authorization: Bearer P2pamotpTEST0000000000000000:K2secret";
  BOOST_TEST(signin("sms", kPhone).status == 200);
  BOOST_TEST(mock.outbox().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
