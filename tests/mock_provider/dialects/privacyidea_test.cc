// The privacyIDEA dialect over real TLS, as providers.md describes the wire.
#include <regex>

#include "dialects/dialect_test_support.h"
#include "mock_json.h"

namespace {

using namespace otp::mock;
using namespace otp::mock::testing;

constexpr char kPath[] = "/validate/check";

struct PrivacyIdea : DialectMock {
  HttpResult form(const Fields& fields) { return post_form(kPath, fields, {}); }
  // First leg for alice (empty PIN); returns the transaction id.
  std::string challenged(const std::string& user = "alice", const std::string& pin = "") {
    const HttpResult r = form({{"user", user}, {"pass", pin}});
    BOOST_TEST_REQUIRE(r.json()["result"]["authentication"].asString() == "CHALLENGE", r.body);
    return r.json()["detail"]["transaction_id"].asString();
  }
  HttpResult answer(const std::string& tx, const std::string& code,
                    const std::string& user = "alice") {
    return form({{"user", user}, {"transaction_id", tx}, {"pass", code}});
  }
};

// HTTP 200, result.status true, and this outcome.
void check_outcome(const HttpResult& r, const std::string& authentication,
                   const std::string& message) {
  BOOST_TEST(r.status == 200);
  const Json::Value body = r.json();
  BOOST_TEST(body["result"]["status"].asBool() == true);
  BOOST_TEST(body["result"]["value"].asBool() == (authentication == "ACCEPT"));
  BOOST_TEST(body["result"]["authentication"].asString() == authentication);
  BOOST_TEST(body["detail"]["message"].asString() == message);
}

void check_server_error(const HttpResult& r, int code) {
  BOOST_TEST(r.status == 400);
  const Json::Value result = r.json()["result"];
  BOOST_TEST(result["status"].asBool() == false);
  BOOST_TEST(result["error"]["code"].asInt() == code);
  BOOST_TEST(result["error"]["message"].asString().rfind("ERR" + std::to_string(code) + ": ", 0) ==
             0u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(privacyidea)

BOOST_FIXTURE_TEST_CASE(challenge_then_accept, PrivacyIdea) {
  const HttpResult r = form({{"user", "alice"}, {"pass", ""}});
  BOOST_TEST_REQUIRE(r.status == 200, r.body);
  const Json::Value body = r.json();
  BOOST_TEST(body["result"]["status"].asBool() == true);
  BOOST_TEST(body["result"]["value"].asBool() == false);
  BOOST_TEST(body["result"]["authentication"].asString() == "CHALLENGE");
  const std::string tx = body["detail"]["transaction_id"].asString();
  BOOST_TEST(std::regex_match(tx, std::regex("[0-9]{20}")));
  BOOST_TEST(body["detail"]["message"].asString() == "Please enter otp from your SMS");
  const Json::Value& multi = body["detail"]["multi_challenge"];
  BOOST_TEST_REQUIRE(multi.size() == 1u);
  BOOST_TEST(multi[0]["transaction_id"].asString() == tx);
  BOOST_TEST(multi[0]["message"].asString() == "Please enter otp from your SMS");
  BOOST_TEST(multi[0]["client_mode"].asString() == "interactive");
  BOOST_TEST(multi[0]["type"].asString() == "sms");

  const auto box = mock.outbox();
  BOOST_TEST_REQUIRE(box.size() == 1u);
  BOOST_TEST(box[0].to == "+15551234567");
  BOOST_TEST(box[0].user == "alice");
  BOOST_TEST(box[0].transaction_id == tx);
  check_outcome(answer(tx, box[0].code), "ACCEPT", "matching 1 tokens");
  // A challenge answers once.
  check_outcome(answer(tx, box[0].code), "REJECT", "wrong otp value");
}

BOOST_FIXTURE_TEST_CASE(json_body_and_exact_request, PrivacyIdea) {
  const HttpResult first = post_json(kPath, object({{"user", "alice"}, {"pass", ""}}), {});
  BOOST_TEST_REQUIRE(first.json()["result"]["authentication"].asString() == "CHALLENGE");
  const std::string tx = first.json()["detail"]["transaction_id"].asString();
  const Json::Value second =
      object({{"user", "alice"}, {"transaction_id", tx}, {"pass", code_for("+15551234567")}});
  check_outcome(post_json(kPath, second, {}), "ACCEPT", "matching 1 tokens");
  const RecordedRequest r = last_request();
  BOOST_TEST(r.path == kPath);
  BOOST_TEST(r.body == to_text(second));
  BOOST_TEST(header_of(r, "authorization").empty());  // privacyIDEA takes no auth header

  BOOST_TEST(form({{"user", "alice"}, {"pass", ""}}).status == 200);
  BOOST_TEST(last_request().body == "user=alice&pass=");
}

BOOST_FIXTURE_TEST_CASE(pin_and_realm, PrivacyIdea) {
  check_outcome(form({{"user", "bob"}, {"realm", "corp"}, {"pass", "0000"}}), "REJECT",
                "wrong otp pin");
  BOOST_TEST(mock.outbox().empty());
  check_server_error(form({{"user", "bob"}, {"pass", "1234"}}), 904);  // not in the default realm
  check_server_error(form({{"user", "alice"}, {"realm", "corp"}, {"pass", ""}}), 904);
  const HttpResult r = form({{"user", "bob"}, {"realm", "corp"}, {"pass", "1234"}});
  BOOST_TEST(r.json()["result"]["authentication"].asString() == "CHALLENGE");
  const std::string tx = r.json()["detail"]["transaction_id"].asString();
  const std::string code = code_for("+15557654321");
  check_outcome(form({{"user", "bob"}, {"realm", "corp"}, {"transaction_id", tx}, {"pass", code}}),
                "ACCEPT", "matching 1 tokens");
}

BOOST_FIXTURE_TEST_CASE(wrong_then_right, PrivacyIdea) {
  const std::string tx = challenged();
  const std::string code = code_for("+15551234567");
  check_outcome(answer(tx, wrong_code(code)), "REJECT", "wrong otp value");
  check_outcome(answer(tx, code), "ACCEPT", "matching 1 tokens");
  // Someone else's transaction is no use to bob.
  const std::string tx2 = challenged();
  check_outcome(form({{"user", "bob"},
                      {"realm", "corp"},
                      {"transaction_id", tx2},
                      {"pass", code_for("+15551234567")}}),
                "REJECT", "wrong otp value");
}

BOOST_FIXTURE_TEST_CASE(failcounter_exceeded, PrivacyIdea) {
  Dialects d;
  d.privacyidea.max_fail = 3;
  mock.configure_dialects(d);
  const std::string tx = challenged();
  const std::string code = code_for("+15551234567");
  for (int i = 0; i < 3; ++i)
    check_outcome(answer(tx, wrong_code(code)), "REJECT", "wrong otp value");
  // The right code for a locked token: privacyIDEA says the code matched.
  check_outcome(answer(tx, code), "REJECT", "Challenge matches, but token is not fit for challenge. Failcounter exceeded");
  check_outcome(form({{"user", "alice"}, {"pass", ""}}), "REJECT", "Failcounter exceeded");
  BOOST_TEST(mock.outbox().size() == 1u);
  mock.reset();
  const std::string tx2 = challenged();
  check_outcome(answer(tx2, code_for("+15551234567")), "ACCEPT", "matching 1 tokens");
}

BOOST_FIXTURE_TEST_CASE(expired_and_unknown_transactions, PrivacyIdea) {
  const std::string tx = challenged();
  const std::string code = code_for("+15551234567");
  mock.expire_codes();
  // An expired challenge answers like a wrong code, in other words.
  check_outcome(answer(tx, code), "REJECT", "Response did not match the challenge.");
  check_outcome(answer("12345678901234567890", code), "REJECT", "wrong otp value");
}

BOOST_FIXTURE_TEST_CASE(unknown_user_and_missing_fields, PrivacyIdea) {
  const HttpResult unknown = form({{"user", "mallory"}, {"pass", ""}});
  check_server_error(unknown, 904);
  BOOST_TEST(unknown.json()["result"]["error"]["message"].asString() ==
             "ERR904: The user can not be found in any resolver in this realm!");
  check_server_error(form({{"pass", ""}}), 905);
  check_server_error(form({{"user", "alice"}}), 905);
  check_server_error(post_json(kPath, object({{"pass", ""}}), {}), 905);
  BOOST_TEST(mock.outbox().empty());
}

BOOST_AUTO_TEST_SUITE_END()
