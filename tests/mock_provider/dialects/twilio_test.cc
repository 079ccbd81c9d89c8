// The Twilio Verify dialect over real TLS, as providers.md describes the wire.
#include <regex>

#include "dialects/dialect_test_support.h"

namespace {

using namespace otp::mock;
using namespace otp::mock::testing;

constexpr char kPhone[] = "+15551234567";
constexpr char kService[] = "/v2/Services/VA00000000000000000000000000000000";

struct Twilio : DialectMock {
  std::string auth = basic_auth_header("AC00000000000000000000000000000000", "twilio-test-token");
  HttpResult send(const std::string& to = kPhone, const std::string& channel = "sms") {
    return post_form(std::string(kService) + "/Verifications", {{"To", to}, {"Channel", channel}},
                     {auth});
  }
  HttpResult check(const Fields& fields) {
    return post_form(std::string(kService) + "/VerificationCheck", fields, {auth});
  }
  HttpResult check_sid(const std::string& sid, const std::string& code) {
    return check({{"Code", code}, {"VerificationSid", sid}});
  }
  // Starts a verification and returns {sid, code}.
  std::pair<std::string, std::string> sent() {
    const HttpResult r = send();
    BOOST_TEST_REQUIRE(r.status == 201, r.body);
    return {r.json()["sid"].asString(), code_for(kPhone)};
  }
};

void check_error(const HttpResult& r, int status, int code) {
  BOOST_TEST(r.status == status);
  const Json::Value body = r.json();
  BOOST_TEST(body["code"].asInt() == code);
  BOOST_TEST(body["status"].asInt() == status);
  BOOST_TEST(!body["message"].asString().empty());
  BOOST_TEST(body["more_info"].asString() ==
             "https://www.twilio.com/docs/errors/" + std::to_string(code));
}

int retry_after(const HttpResult& r) { return std::atoi(r.header("retry-after").c_str()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(twilio)

BOOST_FIXTURE_TEST_CASE(send_then_check, Twilio) {
  const HttpResult r = send();
  BOOST_TEST_REQUIRE(r.status == 201, r.body);
  const Json::Value body = r.json();
  const std::string sid = body["sid"].asString();
  BOOST_TEST(std::regex_match(sid, std::regex("VE[0-9a-f]{32}")));
  BOOST_TEST(body["service_sid"].asString() == "VA00000000000000000000000000000000");
  BOOST_TEST(body["account_sid"].asString() == "AC00000000000000000000000000000000");
  BOOST_TEST(body["to"].asString() == kPhone);
  BOOST_TEST(body["channel"].asString() == "sms");
  BOOST_TEST(body["status"].asString() == "pending");
  BOOST_TEST(body["valid"].asBool() == false);
  BOOST_TEST(body["send_code_attempts"].size() == 1u);

  const auto box = mock.outbox();
  BOOST_TEST_REQUIRE(box.size() == 1u);
  BOOST_TEST(box[0].to == kPhone);
  BOOST_TEST(box[0].transaction_id == sid);

  const HttpResult ok = check_sid(sid, box[0].code);
  BOOST_TEST_REQUIRE(ok.status == 200, ok.body);
  BOOST_TEST(ok.json()["status"].asString() == "approved");
  BOOST_TEST(ok.json()["valid"].asBool() == true);
  BOOST_TEST(ok.json()["sid"].asString() == sid);
  // An approved verification is gone.
  check_error(check_sid(sid, box[0].code), 404, 20404);
}

BOOST_FIXTURE_TEST_CASE(records_the_exact_request, Twilio) {
  BOOST_TEST(send(kPhone, "call").status == 201);
  const RecordedRequest r = last_request();
  BOOST_TEST(r.path == std::string(kService) + "/Verifications");
  BOOST_TEST(r.body == "To=%2B15551234567&Channel=call");
  BOOST_TEST(header_of(r, "content-type") == "application/x-www-form-urlencoded");
  BOOST_TEST(header_of(r, "authorization") ==
             "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDp0d2lsaW8tdGVzdC10b2tlbg==");
  BOOST_TEST(mock.outbox().back().channel == "call");
}

BOOST_FIXTURE_TEST_CASE(check_by_to_and_email_channel, Twilio) {
  const auto [sid, code] = sent();
  const HttpResult ok = check({{"To", kPhone}, {"Code", code}});
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(ok.json()["sid"].asString() == sid);
  BOOST_TEST(ok.json()["status"].asString() == "approved");

  const HttpResult email = send("alice@example.com", "email");
  BOOST_TEST_REQUIRE(email.status == 201, email.body);
  BOOST_TEST(check({{"To", "alice@example.com"}, {"Code", code_for("alice@example.com")}})
                 .json()["valid"]
                 .asBool());
}

BOOST_FIXTURE_TEST_CASE(wrong_code_is_a_pending_200, Twilio) {
  const auto [sid, code] = sent();
  const HttpResult wrong = check_sid(sid, wrong_code(code));
  BOOST_TEST(wrong.status == 200);
  BOOST_TEST(wrong.json()["status"].asString() == "pending");
  BOOST_TEST(wrong.json()["valid"].asBool() == false);
  BOOST_TEST(check_sid(sid, code).json()["status"].asString() == "approved");
}

BOOST_FIXTURE_TEST_CASE(max_check_attempts, Twilio) {
  const auto [sid, code] = sent();
  for (int i = 0; i < 5; ++i) BOOST_TEST(check_sid(sid, wrong_code(code)).status == 200);
  const HttpResult locked = check_sid(sid, code);  // even the right code
  check_error(locked, 429, 60202);
  BOOST_TEST((retry_after(locked) > 0 && retry_after(locked) <= 600), locked.header("retry-after"));
}

BOOST_FIXTURE_TEST_CASE(max_send_attempts_resend_same_code, Twilio) {
  const auto [sid, code] = sent();
  for (int i = 2; i <= 5; ++i) {
    const HttpResult again = send();
    BOOST_TEST_REQUIRE(again.status == 201);
    BOOST_TEST(again.json()["sid"].asString() == sid);  // the same verification
    BOOST_TEST(again.json()["send_code_attempts"].size() == static_cast<unsigned>(i));
  }
  const auto box = mock.outbox();
  BOOST_TEST(box.size() == 5u);
  for (const Delivery& d : box) BOOST_TEST(d.code == code);  // Twilio re-sends the same code
  const HttpResult limited = send();
  check_error(limited, 429, 60203);
  BOOST_TEST((retry_after(limited) > 0 && retry_after(limited) <= 600));
  BOOST_TEST(mock.outbox().size() == 5u);
  BOOST_TEST(send("+15550000000").status == 201);  // another number
}

BOOST_FIXTURE_TEST_CASE(expired_and_unknown, Twilio) {
  const auto [sid, code] = sent();
  mock.expire_codes();
  check_error(check_sid(sid, code), 404, 20404);
  check_error(check({{"To", kPhone}, {"Code", code}}), 404, 20404);
  check_error(check_sid("VE00000000000000000000000000000000", "123456"), 404, 20404);
  // An expired verification no longer holds the number: a new one starts.
  const HttpResult fresh = send();
  BOOST_TEST(fresh.status == 201);
  BOOST_TEST(fresh.json()["sid"].asString() != sid);
}

BOOST_FIXTURE_TEST_CASE(bad_credentials_and_service, Twilio) {
  auth = basic_auth_header("AC00000000000000000000000000000000", "wrong");
  const HttpResult r = send();
  BOOST_TEST(r.status == 401);
  BOOST_TEST(r.body == R"({"code":20003,"message":"Authenticate",)"
                       R"("more_info":"https://www.twilio.com/docs/errors/20003","status":401})");
  auth = "";
  check_error(send(), 401, 20003);
  auth = basic_auth_header("AC00000000000000000000000000000000", "twilio-test-token");
  check_error(post_form("/v2/Services/VAffffffffffffffffffffffffffffffff/Verifications",
                        {{"To", kPhone}, {"Channel", "sms"}}, {auth}),
              404, 20404);
  BOOST_TEST(mock.outbox().empty());
}

BOOST_FIXTURE_TEST_CASE(invalid_parameters, Twilio) {
  check_error(send("5551234567"), 400, 60200);
  check_error(send(kPhone, "pigeon"), 400, 60200);
  check_error(send("alice@example.com", "sms"), 400, 60200);
  // A '+' left unencoded is a space in a form: not E.164.
  check_error(client.request("POST", url(std::string(kService) + "/Verifications"),
                             "To=+15551234567&Channel=sms",
                             {"Content-Type: application/x-www-form-urlencoded", auth}),
              400, 60200);
  // JSON is not what Twilio takes.
  check_error(post_json(std::string(kService) + "/Verifications",
                        object({{"To", kPhone}, {"Channel", "sms"}}), {auth}),
              400, 60200);
  check_error(check({{"VerificationSid", "VE00000000000000000000000000000000"}}), 400, 60200);
  check_error(check({{"Code", "123456"}}), 400, 60200);
  BOOST_TEST(mock.outbox().empty());
}

BOOST_AUTO_TEST_SUITE_END()
