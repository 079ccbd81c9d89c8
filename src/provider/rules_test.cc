#include "provider/rules.h"

#include <boost/test/unit_test.hpp>

#include "base/json.h"
#include "base/toml_util.h"
#include "provider/spec_loader.h"

using namespace otp;
using namespace otp::provider;

namespace {

std::vector<Rule> rules_from(const std::string& toml_text, Problems& problems) {
  auto doc = tomlu::parse(toml_text, "rules.toml", problems);
  tomlu::TomlReader get(problems, "rules.toml");
  return load_rules(*(*doc)["rules"].as_array(), get, "rules");
}

std::optional<Classification> run(const std::vector<Rule>& rules, long status, const std::string& body,
                                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  auto doc = json::parse(body);
  const Answer answer{status, &headers, doc ? &*doc : nullptr};
  return classify({&rules}, answer, std::chrono::system_clock::now());
}

const char* kTwilioLike = R"(
rules = [
  { status = 200, json = { "/status" = "approved", "/valid" = true }, outcome = "accepted" },
  { status = 200, json = { "/status" = "pending" }, outcome = "wrong_code" },
  { status = 429, json = { "/code" = [60202, 60203] }, outcome = "locked", message = "/message" },
  { status = 404, json = { "/code" = 20404 }, outcome = "expired" },
  { status = 401, outcome = "config_error" },
  { status = "5xx", outcome = "retry" },
  { json_contains = { "/detail/message" = "Failcounter exceeded" }, outcome = "locked", retry_after = 900 },
  { json_exists = ["/transaction_id"], json_not = { "/ok" = false }, outcome = "sent" },
  { header = { "X-Lock" = "yes" }, outcome = "locked", retry_after = "/wait" },
]
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(rules)

BOOST_AUTO_TEST_CASE(first_matching_rule_wins) {
  Problems p;
  const auto rules = rules_from(kTwilioLike, p);
  BOOST_TEST(!p.has_errors());
  BOOST_TEST(run(rules, 200, R"({"status":"approved","valid":true})")->outcome == Outcome::Accepted);
  BOOST_TEST(run(rules, 200, R"({"status":"pending","valid":false})")->outcome == Outcome::WrongCode);
  BOOST_TEST(run(rules, 404, R"({"code":20404})")->outcome == Outcome::Expired);
  BOOST_TEST(run(rules, 401, "")->outcome == Outcome::ConfigError);
  BOOST_TEST(run(rules, 503, "")->outcome == Outcome::Retry);
}

BOOST_AUTO_TEST_CASE(any_of_values_and_messages) {
  Problems p;
  const auto rules = rules_from(kTwilioLike, p);
  const auto c = run(rules, 429, R"({"code":60203,"message":"Max send attempts\u001b[2J"})",
                     {{"retry-after", "120"}});
  BOOST_TEST(c->outcome == Outcome::Locked);
  BOOST_TEST(c->reason == "Max send attempts[2J");  // control characters stripped
  BOOST_TEST(*c->retry_after == 120);               // Retry-After used when the rule says nothing
}

BOOST_AUTO_TEST_CASE(no_rule_means_no_classification) {
  Problems p;
  const auto rules = rules_from(kTwilioLike, p);
  BOOST_TEST(!run(rules, 200, R"({"status":"canceled"})").has_value());
  BOOST_TEST(!run(rules, 200, "").has_value());
  BOOST_TEST(!run(rules, 302, "").has_value());
}

BOOST_AUTO_TEST_CASE(contains_exists_not_and_headers) {
  Problems p;
  const auto rules = rules_from(kTwilioLike, p);
  const auto lock = run(rules, 200, R"({"detail":{"message":"Failcounter exceeded for token"}})");
  BOOST_TEST(lock->outcome == Outcome::Locked);
  BOOST_TEST(*lock->retry_after == 900);
  BOOST_TEST(run(rules, 200, R"({"transaction_id":"t1"})")->outcome == Outcome::Sent);
  BOOST_TEST(!run(rules, 200, R"({"transaction_id":"t1","ok":false})").has_value());
  const auto h = run(rules, 200, R"({"wait":"60"})", {{"x-lock", "yes"}});
  BOOST_TEST(h->outcome == Outcome::Locked);
  BOOST_TEST(*h->retry_after == 60);
}

BOOST_AUTO_TEST_CASE(bad_rules_are_located) {
  Problems p;
  rules_from(R"(rules = [
    { status = 999, outcome = "sent" },
    { json = { "status" = 1 }, outcome = "sent" },
    { outcome = "approved" },
    { status = 200 },
    { status = 200, outcome = "sent", colour = "red" },
  ])", p);
  BOOST_TEST(p.list().size() == 5u);
  for (const auto& problem : p.list()) BOOST_TEST(problem.line >= 2);
  BOOST_TEST(p.list()[2].message.find("unknown outcome 'approved'") != std::string::npos);
  BOOST_TEST(p.list()[4].key == "rules[4].colour");
}

BOOST_AUTO_TEST_CASE(retry_after_forms) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  BOOST_TEST(*parse_retry_after("120", now) == 120);
  BOOST_TEST(*parse_retry_after("Wed, 21 Oct 2015 07:38:00 GMT", now) == 600);
  BOOST_TEST(*parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == 0);
  BOOST_TEST(!parse_retry_after("soon", now).has_value());
  BOOST_TEST(!parse_retry_after("-5", now).has_value());
}

// Found by fuzz_flow: a provider's huge wait was a double-to-long overflow
// (undefined behaviour), and one past INT64_MAX made jsoncpp throw.
BOOST_AUTO_TEST_CASE(huge_json_waits_are_capped) {
  Problems p;
  const auto rules = rules_from(kTwilioLike, p);
  auto wait = [&](const std::string& value) {
    return run(rules, 200, R"({"wait":)" + value + "}", {{"x-lock", "yes"}})->retry_after;
  };
  BOOST_TEST(*wait("3.59539e+307") == 999999999);
  BOOST_TEST(*wait("-1e300") == 0);
  BOOST_TEST(*wait("18446744073709551615") == 999999999);
  BOOST_TEST(*wait("9223372036854775807") == 999999999);
  BOOST_TEST(*wait("-9223372036854775808") == 0);
  BOOST_TEST(*wait("1.5") == 2);
  BOOST_TEST(*wait("840") == 840);
}

BOOST_AUTO_TEST_SUITE_END()
