// The Baanx dialect over real TLS, as providers.md describes the wire.
#include <regex>

#include "dialects/dialect_test_support.h"
#include "mock_json.h"

namespace {

using namespace otp::mock;
using namespace otp::mock::testing;

constexpr char kAlice[] = "alice@example.com";
constexpr char kAlicePassword[] = "alice-password";
constexpr char kAlicePhone[] = "+15551234567";

struct Baanx : DialectMock {
  std::vector<std::string> headers{"x-client-key: baanx-test-client-key", "x-us-env: false"};
  HttpResult login(const std::string& email = kAlice,
                   const std::string& password = kAlicePassword) {
    return post_json("/v1/auth/login", object({{"email", email}, {"password", password}}), headers);
  }
  HttpResult send(const std::string& user_id) {
    return post_json("/v1/auth/login/otp", object({{"userId", user_id}}), headers);
  }
  HttpResult login_with(const std::string& code) {
    return post_json("/v1/auth/login",
                     object({{"email", kAlice}, {"password", kAlicePassword}, {"otpCode", code}}),
                     headers);
  }
  // Steps 1 and 2; returns the code sent.
  std::string sent() {
    const HttpResult step1 = login();
    BOOST_TEST_REQUIRE(step1.status == 200, step1.body);
    BOOST_TEST_REQUIRE(send(step1.json()["userId"].asString()).json()["success"].asBool());
    return code_for(kAlicePhone);
  }
};

void check_message(const HttpResult& r, int status, const std::string& message) {
  BOOST_TEST(r.status == status);
  BOOST_TEST(r.json()["message"].asString() == message);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(baanx)

BOOST_FIXTURE_TEST_CASE(three_step_login, Baanx) {
  const HttpResult step1 = login();
  BOOST_TEST_REQUIRE(step1.status == 200, step1.body);
  const Json::Value b1 = step1.json();
  const std::string user_id = b1["userId"].asString();
  BOOST_TEST(std::regex_match(
      user_id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  BOOST_TEST(b1["isOtpRequired"].asBool() == true);
  BOOST_TEST(b1["phoneNumber"].asString() == "+1******4567");
  BOOST_TEST(b1.isMember("accessToken"));
  BOOST_TEST(b1["accessToken"].isNull());
  BOOST_TEST(mock.outbox().empty());  // nothing is sent in step 1

  const HttpResult step2 = send(user_id);
  BOOST_TEST(step2.status == 200);
  BOOST_TEST(step2.body == R"({"success":true})");
  const auto box = mock.outbox();
  BOOST_TEST_REQUIRE(box.size() == 1u);
  BOOST_TEST(box[0].to == kAlicePhone);
  BOOST_TEST(box[0].user == kAlice);
  BOOST_TEST(box[0].transaction_id == user_id);

  const HttpResult step3 = login_with(box[0].code);
  BOOST_TEST_REQUIRE(step3.status == 200, step3.body);
  BOOST_TEST(step3.json()["accessToken"].isString());
  BOOST_TEST(!step3.json()["accessToken"].asString().empty());
  BOOST_TEST(step3.json()["userId"].asString() == user_id);
  BOOST_TEST(login().json()["userId"].asString() == user_id);  // a user keeps their id
}

BOOST_FIXTURE_TEST_CASE(records_the_exact_request, Baanx) {
  headers[1] = "x-us-env: true";
  const std::string code = sent();
  BOOST_TEST(login_with(code).status == 200);
  const RecordedRequest r = last_request();
  BOOST_TEST(r.path == "/v1/auth/login");
  BOOST_TEST(r.body ==
             to_text(object({{"email", kAlice}, {"password", kAlicePassword}, {"otpCode", code}})));
  BOOST_TEST(header_of(r, "x-client-key") == "baanx-test-client-key");
  BOOST_TEST(header_of(r, "x-us-env") == "true");
  BOOST_TEST(header_of(r, "content-type") == "application/json");
}

BOOST_FIXTURE_TEST_CASE(no_otp_required, Baanx) {
  const HttpResult r = login("olive@example.com", "olive-password");
  BOOST_TEST_REQUIRE(r.status == 200, r.body);
  BOOST_TEST(r.json()["isOtpRequired"].asBool() == false);
  BOOST_TEST(r.json()["accessToken"].isString());
  BOOST_TEST(!r.json()["accessToken"].asString().empty());
  BOOST_TEST(mock.outbox().empty());
}

BOOST_FIXTURE_TEST_CASE(wrong_then_right_then_used, Baanx) {
  const std::string code = sent();
  check_message(login_with(wrong_code(code)), 400, "Invalid OTP code");
  BOOST_TEST(login_with(code).status == 200);
  check_message(login_with(code), 400, "Invalid OTP code");
  check_message(login_with(""), 400, "Invalid OTP code");
}

BOOST_FIXTURE_TEST_CASE(expired_code, Baanx) {
  const std::string code = sent();
  mock.expire_codes();
  check_message(login_with(code), 400, "Invalid OTP code");
}

BOOST_FIXTURE_TEST_CASE(lockout_after_max_failures, Baanx) {
  limit(3, 100);
  const std::string code = sent();
  check_message(login_with(wrong_code(code)), 400, "Invalid OTP code");
  check_message(login_with(wrong_code(code)), 400, "Invalid OTP code");
  check_message(login_with(wrong_code(code)), 429, "Too many attempts");
  check_message(login_with(code), 429, "Too many attempts");
  check_message(send(login().json()["userId"].asString()), 429, "Too many attempts");
  mock.reset();
  BOOST_TEST(login_with(sent()).status == 200);
}

BOOST_FIXTURE_TEST_CASE(unknown_users_and_wrong_password, Baanx) {
  check_message(login("nobody@example.com", "x"), 404, "User not found");
  check_message(login(kAlice, "wrong"), 401, "Invalid credentials");
  check_message(post_json("/v1/auth/login", object({{"email", kAlice}}), headers), 400,
                "email and password are required");
  BOOST_TEST(send("00000000-0000-4000-8000-000000000000").body == R"({"success":false})");
  BOOST_TEST(post_json("/v1/auth/login/otp", object({}), headers).status == 400);
  BOOST_TEST(mock.outbox().empty());
}

BOOST_FIXTURE_TEST_CASE(bad_headers, Baanx) {
  headers[0] = "x-client-key: wrong";
  check_message(login(), 401, "Invalid client key");
  headers[0] = "";
  check_message(login(), 401, "Invalid client key");
  headers[0] = "x-client-key: baanx-test-client-key";
  headers[1] = "x-us-env: maybe";
  BOOST_TEST(login().status == 400);
  headers[1] = "";
  BOOST_TEST(login().status == 400);
}

BOOST_AUTO_TEST_SUITE_END()
