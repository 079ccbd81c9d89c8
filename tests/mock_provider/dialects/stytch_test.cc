// The Stytch dialect over real TLS, as providers.md describes the wire.
#include <regex>

#include "dialects/dialect_test_support.h"
#include "mock_json.h"

namespace {

using namespace otp::mock;
using namespace otp::mock::testing;

constexpr char kPhone[] = "+15551234567";

struct Stytch : DialectMock {
  std::string auth() const {
    const StytchSettings s;
    return basic_auth_header(s.project_id, s.secret);
  }
  HttpResult send(const std::string& channel, const Json::Value& body) {
    return post_json("/v1/otps/" + channel + "/send", body, {auth()});
  }
  HttpResult send_sms(const std::string& phone = kPhone) {
    return send("sms", object({{"phone_number", phone}}));
  }
  HttpResult authenticate(const std::string& method_id, const std::string& code) {
    return post_json("/v1/otps/authenticate", object({{"method_id", method_id}, {"code", code}}),
                     {auth()});
  }
  // Sends an SMS and returns {phone_id, code}.
  std::pair<std::string, std::string> sent() {
    const HttpResult r = send_sms();
    BOOST_TEST_REQUIRE(r.status == 200);
    return {r.json()["phone_id"].asString(), code_for(kPhone)};
  }
};

// Every Stytch error has this shape, and its status is in the body too.
void check_error(const HttpResult& r, int status, const std::string& type) {
  BOOST_TEST(r.status == status);
  const Json::Value body = r.json();
  BOOST_TEST(body["status_code"].asInt() == status);
  BOOST_TEST(body["error_type"].asString() == type);
  BOOST_TEST(!body["error_message"].asString().empty());
  BOOST_TEST(body["error_url"].asString() ==
             "https://stytch.com/docs/api/errors/" + std::to_string(status) + "#" + type);
  BOOST_TEST(
      std::regex_match(body["request_id"].asString(), std::regex("request-id-test-[0-9a-f-]{36}")));
  BOOST_TEST(r.header("retry-after").empty());  // Stytch documents none
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stytch)

BOOST_FIXTURE_TEST_CASE(sms_send_then_authenticate, Stytch) {
  const HttpResult r = send_sms();
  BOOST_TEST_REQUIRE(r.status == 200, r.body);
  const Json::Value body = r.json();
  BOOST_TEST(body["status_code"].asInt() == 200);
  BOOST_TEST(std::regex_match(body["request_id"].asString(), std::regex("request-id-test-.+")));
  BOOST_TEST(std::regex_match(body["user_id"].asString(), std::regex("user-test-[0-9a-f-]{36}")));
  const std::string phone_id = body["phone_id"].asString();
  BOOST_TEST(std::regex_match(phone_id, std::regex("phone-number-test-[0-9a-f-]{36}")));
  BOOST_TEST(!body.isMember("email_id"));

  const auto box = mock.outbox();
  BOOST_TEST_REQUIRE(box.size() == 1u);
  BOOST_TEST(box[0].channel == "sms");
  BOOST_TEST(box[0].to == kPhone);
  BOOST_TEST(box[0].user == body["user_id"].asString());
  BOOST_TEST(box[0].transaction_id == phone_id);

  const HttpResult ok = authenticate(phone_id, box[0].code);
  BOOST_TEST_REQUIRE(ok.status == 200, ok.body);
  BOOST_TEST(ok.json()["status_code"].asInt() == 200);
  BOOST_TEST(ok.json()["method_id"].asString() == phone_id);
  BOOST_TEST(ok.json()["user_id"].asString() == body["user_id"].asString());
  // The same number keeps its ids.
  BOOST_TEST(send_sms().json()["phone_id"].asString() == phone_id);
}

BOOST_FIXTURE_TEST_CASE(records_the_exact_request, Stytch) {
  mock.set_next_code("246810");
  const Json::Value body = object({{"phone_number", kPhone}, {"expiration_minutes", 5}});
  BOOST_TEST(send("sms", body).status == 200);
  const RecordedRequest r = last_request();
  BOOST_TEST(r.method == "POST");
  BOOST_TEST(r.path == "/v1/otps/sms/send");
  BOOST_TEST(r.body == to_text(body));
  BOOST_TEST(header_of(r, "content-type") == "application/json");
  // base64("project-test-00000000-0000-4000-8000-000000000000:secret-test-pam-otp")
  BOOST_TEST(header_of(r, "authorization") ==
             "Basic "
             "cHJvamVjdC10ZXN0LTAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMDpzZWNyZXQtdGVzdC1wY"
             "W0tb3Rw");
  BOOST_TEST(code_for(kPhone) == "246810");
}

BOOST_FIXTURE_TEST_CASE(email_and_whatsapp, Stytch) {
  const HttpResult email = send("email", object({{"email", "alice@example.com"}}));
  BOOST_TEST_REQUIRE(email.status == 200, email.body);
  const std::string email_id = email.json()["email_id"].asString();
  BOOST_TEST(std::regex_match(email_id, std::regex("email-test-[0-9a-f-]{36}")));
  BOOST_TEST(!email.json().isMember("phone_id"));
  BOOST_TEST(authenticate(email_id, code_for("alice@example.com")).status == 200);

  const HttpResult wa = send("whatsapp", object({{"phone_number", kPhone}}));
  BOOST_TEST_REQUIRE(wa.status == 200);
  BOOST_TEST(mock.outbox().back().channel == "whatsapp");
  BOOST_TEST(authenticate(wa.json()["phone_id"].asString(), code_for(kPhone)).status == 200);
  BOOST_TEST(post_json("/v1/otps/pigeon/send", object({}), {auth()}).status == 404);
}

BOOST_FIXTURE_TEST_CASE(wrong_then_right_then_used, Stytch) {
  const auto [id, code] = sent();
  check_error(authenticate(id, wrong_code(code)), 404, "otp_code_not_found");
  BOOST_TEST(authenticate(id, code).status == 200);
  check_error(authenticate(id, code), 401, "unable_to_auth_otp_code");
  check_error(authenticate("phone-number-test-unknown", code), 404, "otp_code_not_found");
}

BOOST_FIXTURE_TEST_CASE(expiry_and_superseded_codes, Stytch) {
  const auto [id, code] = sent();
  mock.expire_codes();
  check_error(authenticate(id, code), 401, "unable_to_auth_otp_code");

  const auto [id2, old_code] = sent();
  mock.set_next_code(wrong_code(old_code));
  const auto [id3, new_code] = sent();
  BOOST_TEST(id2 == id3);
  check_error(authenticate(id3, old_code), 404, "otp_code_not_found");
  BOOST_TEST(authenticate(id3, new_code).status == 200);
}

BOOST_FIXTURE_TEST_CASE(expiration_minutes_range, Stytch) {
  for (const int minutes : {0, 11}) {
    const auto r = send("sms", object({{"phone_number", kPhone}, {"expiration_minutes", minutes}}));
    check_error(r, 400, "invalid_expiration_minutes");
  }
  check_error(send("sms", object({{"phone_number", kPhone}, {"expiration_minutes", "5"}})), 400,
              "invalid_expiration_minutes");
  BOOST_TEST(mock.outbox().empty());
  for (const int minutes : {1, 10})
    BOOST_TEST(
        send("sms", object({{"phone_number", kPhone}, {"expiration_minutes", minutes}})).status ==
        200);
}

BOOST_FIXTURE_TEST_CASE(lockout_after_max_failures, Stytch) {
  limit(3, 100);
  const auto [id, code] = sent();
  check_error(authenticate(id, wrong_code(code)), 404, "otp_code_not_found");
  check_error(authenticate(id, wrong_code(code)), 404, "otp_code_not_found");
  check_error(authenticate(id, wrong_code(code)), 429, "user_lock_limit_reached");
  // Locked: the right code and new sends are refused too.
  check_error(authenticate(id, code), 429, "user_lock_limit_reached");
  check_error(send_sms(), 429, "user_lock_limit_reached");
  BOOST_TEST(send_sms("+15550000000").status == 200);  // another user
  mock.reset();
  const auto [id2, code2] = sent();
  BOOST_TEST(authenticate(id2, code2).status == 200);
}

BOOST_FIXTURE_TEST_CASE(send_rate_limit, Stytch) {
  limit(5, 2);
  BOOST_TEST(send_sms().status == 200);
  BOOST_TEST(send_sms().status == 200);
  check_error(send_sms(), 429, "too_many_requests");
  BOOST_TEST(mock.outbox().size() == 2u);
  BOOST_TEST(send_sms("+15550000000").status == 200);
}

BOOST_FIXTURE_TEST_CASE(unknown_and_invalid_destinations, Stytch) {
  Dialects d;
  d.stytch.known_destinations = {kPhone, "alice@example.com"};
  mock.configure_dialects(d);
  check_error(send_sms("+15550000000"), 404, "phone_number_not_found");
  check_error(send("email", object({{"email", "bob@example.com"}})), 404, "email_not_found");
  check_error(send_sms("5551234567"), 400, "invalid_phone_number");
  check_error(send("sms", object({})), 400, "invalid_phone_number");
  check_error(send("email", object({{"email", "not-an-email"}})), 400, "invalid_email");
  BOOST_TEST(mock.outbox().empty());
  BOOST_TEST(send_sms().status == 200);
}

BOOST_FIXTURE_TEST_CASE(bad_credentials_and_bodies, Stytch) {
  const StytchSettings s;
  const auto wrong = post_json("/v1/otps/sms/send", object({{"phone_number", kPhone}}),
                               {basic_auth_header(s.project_id, "nope")});
  check_error(wrong, 401, "unauthorized_credentials");
  check_error(post_json("/v1/otps/sms/send", object({{"phone_number", kPhone}}), {}), 401,
              "unauthorized_credentials");
  check_error(post_json("/v1/otps/authenticate", object({{"method_id", "x"}, {"code", "1"}}),
                        {"Authorization: Bearer " + s.secret}),
              401, "unauthorized_credentials");
  BOOST_TEST(mock.outbox().empty());
  check_error(post_json("/v1/otps/authenticate", object({{"code", "123456"}}), {auth()}), 400,
              "bad_request");
  check_error(client.request("POST", url("/v1/otps/sms/send"), "{", {auth()}), 400, "bad_request");
}

BOOST_FIXTURE_TEST_CASE(faults_apply, Stytch) {
  Fault f;
  f.status = 503;
  f.count = 1;
  f.path = "/v1/otps/sms/send";
  mock.set_fault(f);
  const HttpResult r = send_sms();
  BOOST_TEST(r.status == 503);
  BOOST_TEST(r.json()["error"].asString() == "injected");
  BOOST_TEST(mock.outbox().empty());
  BOOST_TEST(mock.requests().size() == 1u);  // faulted requests are recorded too
  BOOST_TEST(send_sms().status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
