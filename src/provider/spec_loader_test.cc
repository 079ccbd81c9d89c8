#include "provider/spec_loader.h"

#include <boost/test/unit_test.hpp>

#include "example_provider.h"
#include "http/url_policy.h"

using namespace otp;
using namespace otp::provider;

namespace {

std::optional<ProviderSpec> load_text(const std::string& text, Problems& problems, const std::string& name = "mock") {
  auto doc = tomlu::parse(text, "test.conf", problems);
  if (!doc) return std::nullopt;
  auto* table = (*doc)["provider"][name].as_table();
  BOOST_REQUIRE(table != nullptr);
  return load_provider(name, std::move(*table), problems, "test.conf");
}

std::string messages(const Problems& p) {
  std::string out;
  for (const auto& problem : p.list()) out += problem.to_string() + "\n";
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spec_loader)

BOOST_AUTO_TEST_CASE(loads_the_example_provider) {
  Problems p;
  const auto spec = load_text(testing::mock_provider_toml("\"https://otp.example\""), p);
  BOOST_TEST_INFO(messages(p));
  BOOST_REQUIRE(spec.has_value());
  BOOST_TEST(spec->send.size() == 1u);
  BOOST_TEST(spec->verify.size() == 1u);
  BOOST_TEST(spec->rules.size() == 4u);
  BOOST_TEST(spec->base_urls.at(0) == "https://otp.example");
  BOOST_TEST(spec->secret_vars.count("api_key") == 1u);
  BOOST_TEST(static_cast<int>(spec->auth.scheme) == static_cast<int>(Auth::Scheme::Bearer));
  BOOST_TEST(spec->send[0].body["to"].asString() == "${destination}");
}

BOOST_AUTO_TEST_CASE(refuses_plain_http_to_a_remote_host) {
  Problems p;
  BOOST_TEST(!load_text(testing::mock_provider_toml("\"http://otp.example\""), p).has_value());
  BOOST_TEST(messages(p).find("http:// to a host that is not loopback") != std::string::npos);
  // To loopback, only to a port that only root can bind.
  const int start = http::unprivileged_port_start();
  const std::string high = std::to_string(start);
  Problems q;
  BOOST_TEST(!load_text(testing::mock_provider_toml("[\"http://127.0.0.1:" + high + "\", \"http://[::1]:" + high + "\"]"), q));
  BOOST_TEST(messages(q).find(":3: key 'provider.mock.base_url'") != std::string::npos, messages(q));
  BOOST_TEST(messages(q).find("uses http:// to port " + high + ", which any local user can bind") != std::string::npos,
             messages(q));
  if (start > 1) {  // (a start of 0, as containers often set, leaves no such port)
    const std::string low = std::to_string(start - 1);
    Problems r;
    BOOST_TEST(load_text(testing::mock_provider_toml("[\"http://127.0.0.1:" + low + "\", \"http://[::1]:" + low + "\"]"), r).has_value());
  }
}

BOOST_AUTO_TEST_CASE(reports_each_problem_with_its_line) {
  Problems p;
  const std::string text = R"([provider.x]
base_url = "https://otp.example"
api_kee = "typo"
secret = "s3cret"
[[provider.x.send]]
url = "/send/${secret}"
colour = "blue"
rules = [ { status = 200, outcome = "sent" } ]
[[provider.x.verify]]
url = "/verify"
body = { code = "${code" }
rules = [ { status = 200, outcome = "sent" } ]
)";
  BOOST_TEST(!load_text(text, p, "x").has_value());
  const std::string all = messages(p);
  BOOST_TEST_INFO(all);
  BOOST_TEST(all.find("test.conf:3: key 'provider.x.api_kee': unknown key") != std::string::npos);
  BOOST_TEST(all.find("test.conf:7: key 'provider.x.send[0].colour': unknown step key") != std::string::npos);
  BOOST_TEST(all.find("'secret' holds a secret and may not be used in a URL") != std::string::npos);
  BOOST_TEST(all.find("bad template") != std::string::npos);
  BOOST_TEST(all.find("outcome 'sent' cannot happen in the verify phase") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secrets_cannot_reach_a_url_through_another_variable) {
  Problems p;
  const std::string text = R"([provider.x]
base_url = "https://otp.example"
auth_token = "t"
path = "${auth_token}"
[[provider.x.send]]
url = "/send/${path}"
rules = [ { status = 200, outcome = "sent" } ]
[[provider.x.verify]]
url = "/verify"
rules = [ { status = 200, outcome = "accepted" } ]
)";
  BOOST_TEST(!load_text(text, p, "x").has_value());
  BOOST_TEST(messages(p).find("'path' holds a secret") != std::string::npos);
}

// Every way a value can reach a URL: directly, through provider keys (at any
// depth of a chain or inside an array), through choose alternatives, from
// keys named secret, from secret_keys, and the code and password built-ins.
BOOST_AUTO_TEST_CASE(secrets_cannot_reach_a_url_through_any_indirection) {
  struct Case {
    const char* how;
    const char* keys;
    const char* url;
    const char* tainted;
  };
  const Case cases[] = {
      {"directly", "api_key = \"k\"", "/send/${api_key}", "api_key"},
      {"a chain", "api_key = \"k\"\na = \"${b}\"\nb = \"x-${api_key}\"", "/send/${a}", "a"},
      {"an array", "api_key = \"k\"\nparts = [\"x\", \"${api_key}\"]", "/send/${parts}", "parts"},
      {"a choose", "api_key = \"k\"\nchoose = { region = [{ value = \"${api_key}\" }] }", "/send/${region}", "region"},
      {"a later choose alternative", "api_key = \"k\"\nchoose = { region = [{ when = { channel = \"sms\" }, value = \"eu\" }, { value = \"${api_key}\" }] }",
       "/send/${region}", "region"},
      {"a choose of the code", "choose = { c = [{ value = \"${code}\" }] }", "/verify/${c}", "c"},
      {"a choose table", "api_key = \"k\"\nchoose = { t = [{ value = { k = \"${api_key}\" } }] }", "/send/${t}", "t"},
      {"a key through a choose", "api_key = \"k\"\nchoose = { c = [{ value = \"${api_key}\" }] }\nd = \"${c}\"", "/send/${d}", "d"},
      {"secret_keys", "region_key = \"k\"\nsecret_keys = [\"region_key\"]", "/send/${region_key}", "region_key"},
      {"the password", "", "/send/${password}", "password"},
      {"the code", "", "/verify/${code}", "code"},
  };
  for (const auto& c : cases) {
    Problems p;
    const std::string text = std::string("[provider.x]\nbase_url = \"https://otp.example\"\n") + c.keys +
                             "\n[[provider.x.send]]\nurl = \"" + c.url +
                             "\"\nrules = [ { status = 200, outcome = \"sent\" } ]\n"
                             "[[provider.x.verify]]\nurl = \"/verify\"\nrules = [ { status = 200, outcome = \"accepted\" } ]\n";
    BOOST_TEST(!load_text(text, p, "x").has_value(), c.how);
    BOOST_TEST(messages(p).find(std::string("'") + c.tainted + "' holds a secret") != std::string::npos,
               c.how << ": " << messages(p));
  }
}

BOOST_AUTO_TEST_CASE(needs_steps_and_a_base_url) {
  Problems p;
  BOOST_TEST(!load_text("[provider.x]\nfoo = 1\n", p, "x").has_value());
  const std::string all = messages(p);
  BOOST_TEST(all.find("no send steps") != std::string::npos);
  BOOST_TEST(all.find("no verify steps") != std::string::npos);
  Problems q;
  load_text(R"([provider.x]
[[provider.x.send]]
url = "/a"
rules = [ { status = 200, outcome = "sent" } ]
[[provider.x.verify]]
url = "/b"
rules = [ { status = 200, outcome = "accepted" } ]
)", q, "x");
  BOOST_TEST(messages(q).find("base_url': is required") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_preset_lists_the_known_ones) {
  Problems p;
  BOOST_TEST(!load_text("[provider.x]\npreset = \"nosuch\"\n", p, "x").has_value());
  BOOST_TEST(messages(p).find("unknown preset 'nosuch'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(builtins_cannot_be_redefined) {
  Problems p;
  std::string text = testing::mock_provider_toml("\"https://otp.example\"") + "\n";
  text.insert(text.find("api_key"), "channel = \"voice\"\n");
  BOOST_TEST(!load_text(text, p).has_value());
  BOOST_TEST(messages(p).find("is a built-in variable") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(base_url_may_use_provider_keys_and_choose) {
  const std::string text = R"([provider.x]
base_url = "https://${environment}.example.com"
project_id = "project-live-123"
choose = { environment = [ { when = { project_id = { pattern = "^project-live-" } }, value = "api" },
                           { value = "test" } ] }
[[provider.x.send]]
url = "/send/${project_id}"
rules = [ { status = 200, outcome = "sent" } ]
[[provider.x.verify]]
url = "/verify"
rules = [ { status = 200, outcome = "accepted" } ]
)";
  Problems p;
  auto live = load_text(text, p, "x");
  BOOST_TEST_INFO(messages(p));
  BOOST_REQUIRE(live.has_value());
  BOOST_TEST(live->base_urls.at(0) == "https://api.example.com");
  std::string test_text = text;
  test_text.replace(test_text.find("project-live-123"), 16, "project-test-123");
  Problems q;
  BOOST_TEST(load_text(test_text, q, "x")->base_urls.at(0) == "https://test.example.com");
}

BOOST_AUTO_TEST_CASE(base_url_cannot_use_user_data) {
  Problems p;
  std::string text = testing::mock_provider_toml("\"https://${user}.example\"");
  BOOST_TEST(!load_text(text, p).has_value());
  BOOST_TEST(messages(p).find("base_url may only use the provider table's keys, not 'user'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(auth_schemes_check_their_parameters) {
  Problems p;
  std::string text = testing::mock_provider_toml("\"https://otp.example\"");
  text.replace(text.find("token = "), 5, "tokn");
  BOOST_TEST(!load_text(text, p).has_value());
  const std::string all = messages(p);
  BOOST_TEST(all.find("auth.tokn': not a parameter of the bearer scheme") != std::string::npos);
  BOOST_TEST(all.find("auth.token': the bearer scheme needs it") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(password_use_is_detected) {
  Problems p;
  std::string text = testing::mock_provider_toml("\"https://otp.example\"");
  BOOST_TEST(!load_text(text, p)->uses_password);
  text.replace(text.find("to = \"${destination}\""), 22, "to = \"${destination}\", pw = \"${password}\"");
  Problems q;
  const auto spec = load_text(text, q);
  BOOST_TEST_INFO(messages(q));
  BOOST_TEST(spec->uses_password);
}

BOOST_AUTO_TEST_CASE(valid_until_belongs_to_send_steps_and_needs_both_pointers) {
  const std::string head = "[provider.x]\nbase_url = \"https://x.example\"\n"
                           "[[provider.x.verify]]\nurl = \"/v\"\nrules = [{ outcome = \"accepted\" }]\n";
  Problems good;
  const auto spec = load_text(head + "[[provider.x.send]]\nurl = \"/s\"\nrules = [{ outcome = \"sent\" }]\n"
                                     "valid_until = { local_time = \"/c/*/until\", server_time = \"/time\" }\n", good, "x");
  BOOST_TEST_INFO(messages(good));
  BOOST_REQUIRE(spec.has_value());
  BOOST_TEST(spec->send[0].expiry.local_time == "/c/*/until");
  BOOST_TEST(spec->send[0].expiry.server_time == "/time");

  Problems bad;
  BOOST_TEST(!load_text("[provider.x]\nbase_url = \"https://x.example\"\n"
                        "[[provider.x.send]]\nurl = \"/s\"\nrules = [{ outcome = \"sent\" }]\n"
                        "valid_until = { local_time = \"until\", zone = 1 }\n"
                        "[[provider.x.verify]]\nurl = \"/v\"\nrules = [{ outcome = \"accepted\" }]\n"
                        "valid_until = { local_time = \"/u\", server_time = \"/t\" }\n", bad, "x"));
  const std::string text = messages(bad);
  BOOST_TEST(text.find("send[0].valid_until.local_time': must be a JSON Pointer") != std::string::npos, text);
  BOOST_TEST(text.find("send[0].valid_until.server_time': is required") != std::string::npos, text);
  BOOST_TEST(text.find("send[0].valid_until.zone': unknown key") != std::string::npos, text);
  BOOST_TEST(text.find("verify[0].valid_until': only a send step's answer says when its code expires") != std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()
