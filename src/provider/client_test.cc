#include "provider/client.h"

#include <boost/test/unit_test.hpp>

#include "base/json.h"
#include "example_provider.h"
#include "fakes.h"
#include "provider/spec_loader.h"

using namespace otp;
using namespace otp::provider;
using otp::testing::FakeTransport;
using otp::testing::json_response;
using otp::testing::SeenRequest;

namespace {

ProviderSpec example(const std::string& base_urls = "[\"https://a.example\", \"https://b.example\"]") {
  Problems p;
  auto doc = tomlu::parse(testing::mock_provider_toml(base_urls), "t.conf", p);
  auto spec = load_provider("mock", std::move(*(*doc)["provider"]["mock"].as_table()), p, "t.conf");
  BOOST_REQUIRE(spec.has_value());
  return std::move(*spec);
}

struct Fixture {
  ProviderSpec spec = example();
  testing::CollectingLogger log;
  Limits limits{std::chrono::seconds(10), std::chrono::seconds(3), std::chrono::seconds(120)};

  void fill(Variables& vars) {
    vars.set_builtin("user", Json::Value("alice"));
    vars.set_builtin("provider_channel", Json::Value("sms"));
    vars.set_builtin("destination", Json::Value("+15551234567"));
  }
};

const char* kSent = R"({"status":"sent","transaction_id":"tx-1","masked_to":"+1******4567","request_id":"req-1"})";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(provider_client, Fixture)

BOOST_AUTO_TEST_CASE(send_builds_the_request_and_saves_values) {
  FakeTransport t([](const SeenRequest&) { return json_response(200, kSent); });
  ProviderClient client(spec, t, limits, log, false);
  Variables vars(spec);
  fill(vars);
  const auto r = client.run(Phase::Send, vars);
  BOOST_TEST(outcome_name(r.outcome) == "sent");
  BOOST_REQUIRE(t.seen.size() == 1u);
  BOOST_TEST(t.seen[0].url == "https://a.example/v1/otp/send");
  BOOST_TEST(t.seen[0].method == "POST");
  BOOST_TEST(t.seen[0].headers["Authorization"] == "Bearer test-api-key");
  BOOST_TEST(t.seen[0].headers["Content-Type"] == "application/json");
  const auto body = json::parse(t.seen[0].body);
  BOOST_TEST((*body)["to"].asString() == "+15551234567");
  BOOST_TEST((*body)["channel"].asString() == "sms");
  BOOST_TEST(vars.lookup("transaction_id")->asString() == "tx-1");
  BOOST_TEST(vars.lookup("masked_destination")->asString() == "+1******4567");
}

BOOST_AUTO_TEST_CASE(fails_over_on_connection_failure_and_sticks_to_the_url_that_answered) {
  FakeTransport t([](const SeenRequest& r) {
    if (r.url.rfind("https://a.example", 0) == 0) return testing::failed_response(http::Failure::Connect);
    return json_response(200, r.url.find("send") != std::string::npos ? kSent : R"({"status":"approved"})");
  });
  ProviderClient client(spec, t, limits, log, false);
  Variables vars(spec);
  fill(vars);
  BOOST_TEST(outcome_name(client.run(Phase::Send, vars).outcome) == "sent");
  vars.set_builtin("code", Json::Value("123456"));
  BOOST_TEST(outcome_name(client.run(Phase::Verify, vars).outcome) == "accepted");
  BOOST_REQUIRE(t.seen.size() == 3u);
  BOOST_TEST(t.seen[1].url == "https://b.example/v1/otp/send");
  BOOST_TEST(t.seen[2].url == "https://b.example/v1/otp/verify");  // no retry of the dead URL
  BOOST_TEST(json::parse(t.seen[2].body)->get("transaction_id", "").asString() == "tx-1");
}

BOOST_AUTO_TEST_CASE(fails_over_on_5xx_but_never_on_4xx) {
  FakeTransport five([](const SeenRequest& r) {
    return r.url.rfind("https://a.example", 0) == 0 ? json_response(503, "<html>busy</html>") : json_response(200, kSent);
  });
  ProviderClient c1(spec, five, limits, log, false);
  Variables v1(spec);
  fill(v1);
  BOOST_TEST(outcome_name(c1.run(Phase::Send, v1).outcome) == "sent");
  BOOST_TEST(five.seen.size() == 2u);

  FakeTransport four([](const SeenRequest&) { return json_response(404, R"({"error":"unknown_user","message":"No such user"})"); });
  ProviderClient c2(spec, four, limits, log, false);
  Variables v2(spec);
  fill(v2);
  const auto r = c2.run(Phase::Send, v2);
  BOOST_TEST(outcome_name(r.outcome) == "unknown_user");
  BOOST_TEST(r.reason == "No such user");
  BOOST_TEST(four.seen.size() == 1u);
}

BOOST_AUTO_TEST_CASE(unclassified_and_malformed_answers_are_unavailable_not_success) {
  for (const std::string body : {R"({"status":"maybe"})", R"({"status":"sent",)", "", "null"}) {
    FakeTransport t([&](const SeenRequest&) { return json_response(200, body); });
    ProviderClient client(spec, t, limits, log, false);
    Variables vars(spec);
    fill(vars);
    BOOST_TEST(outcome_name(client.run(Phase::Send, vars).outcome) == "unavailable");
    BOOST_TEST(t.seen.size() == 1u);  // a 200 is an answer: no failover
  }
}

BOOST_AUTO_TEST_CASE(every_url_failing_is_unavailable) {
  FakeTransport t([](const SeenRequest&) { return testing::failed_response(http::Failure::Protocol, "connection reset"); });
  ProviderClient client(spec, t, limits, log, false);
  Variables vars(spec);
  fill(vars);
  const auto r = client.run(Phase::Send, vars);
  BOOST_TEST(outcome_name(r.outcome) == "unavailable");
  BOOST_TEST(r.detail.find("connection reset") != std::string::npos);
  BOOST_TEST(t.seen.size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_deadline_bounds_provider_time) {
  limits.deadline = std::chrono::seconds(25);
  std::vector<long> timeouts;
  struct Slow : http::Transport {
    std::vector<long>* timeouts;
    http::Response perform(const http::Request& r) override {
      timeouts->push_back(static_cast<long>(r.timeout.count()));
      auto resp = testing::failed_response(http::Failure::Timeout);
      resp.elapsed = r.timeout;
      return resp;
    }
  } slow;
  slow.timeouts = &timeouts;
  ProviderClient client(spec, slow, limits, log, false);
  Variables vars(spec);
  fill(vars);
  BOOST_TEST(outcome_name(client.run(Phase::Send, vars).outcome) == "unavailable");
  const auto again = client.run(Phase::Send, vars);
  BOOST_TEST(again.detail.find("deadline") != std::string::npos);
  // 10 s, 10 s, then only the 5 s left, then nothing.
  BOOST_TEST(timeouts == (std::vector<long>{10000, 10000, 5000}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_undefined_variable_is_a_config_error) {
  FakeTransport t([](const SeenRequest&) { return json_response(200, kSent); });
  ProviderClient client(spec, t, limits, log, false);
  Variables vars(spec);  // no destination
  vars.set_builtin("user", Json::Value("alice"));
  vars.set_builtin("provider_channel", Json::Value("sms"));
  const auto r = client.run(Phase::Send, vars);
  BOOST_TEST(outcome_name(r.outcome) == "config_error");
  BOOST_TEST(r.detail.find("undefined variable 'destination'") != std::string::npos);
  BOOST_TEST(t.seen.empty());
}

BOOST_AUTO_TEST_CASE(header_values_cannot_carry_line_breaks) {
  spec.headers.emplace_back("X-User", "${user}");
  FakeTransport t([](const SeenRequest&) { return json_response(200, kSent); });
  ProviderClient client(spec, t, limits, log, false);
  Variables vars(spec);
  fill(vars);
  vars.set_builtin("user", Json::Value("alice\r\nX-Admin: yes"));
  BOOST_TEST(outcome_name(client.run(Phase::Send, vars).outcome) == "config_error");
  BOOST_TEST(t.seen.empty());
}

BOOST_AUTO_TEST_CASE(steps_run_in_order_with_conditions_and_continue) {
  Problems p;
  auto doc = tomlu::parse(R"([provider.x]
base_url = "https://x.example"
[[provider.x.send]]
url = "/login"
save = { needs_code = "/otp" }
rules = [ { status = 200, json = { "/otp" = false }, outcome = "accepted" },
          { status = 200, outcome = "continue" } ]
[[provider.x.send]]
url = "/sms"
when = { needs_code = true, channel = ["sms", "voice"] }
rules = [ { status = 200, outcome = "sent" } ]
[[provider.x.send]]
url = "/email"
when = { needs_code = true, channel = "email" }
rules = [ { status = 200, outcome = "sent" } ]
[[provider.x.verify]]
url = "/verify"
rules = [ { status = 200, outcome = "accepted" } ]
)", "t.conf", p);
  auto spec2 = load_provider("x", std::move(*(*doc)["provider"]["x"].as_table()), p, "t.conf");
  BOOST_REQUIRE(spec2.has_value());
  FakeTransport t([](const SeenRequest& r) {
    return json_response(200, r.url.find("/login") != std::string::npos ? R"({"otp":true})" : "{}");
  });
  ProviderClient client(*spec2, t, limits, log, false);
  Variables vars(*spec2);
  vars.set_builtin("channel", Json::Value("email"));
  BOOST_TEST(outcome_name(client.run(Phase::Send, vars).outcome) == "sent");
  BOOST_REQUIRE(t.seen.size() == 2u);
  BOOST_TEST(t.seen[1].url == "https://x.example/email");
}

BOOST_AUTO_TEST_SUITE_END()
