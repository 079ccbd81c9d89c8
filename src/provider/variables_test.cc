#include "provider/variables.h"

#include <boost/test/unit_test.hpp>

#include "base/toml_util.h"
#include "provider/spec_loader.h"

using namespace otp;
using namespace otp::provider;

namespace {

ProviderSpec spec_with(const std::string& keys) {
  Problems p;
  auto doc = tomlu::parse("[provider.x]\nbase_url = \"https://x.example\"\n" + keys + R"(
[[provider.x.send]]
url = "/send"
body = { a = "${user}", b = "${email}", c = "${user_id}", d = "${region}", e = "${phone?}" }
rules = [ { status = 200, outcome = "sent" } ]
[[provider.x.verify]]
url = "/verify"
rules = [ { status = 200, outcome = "accepted" } ]
)", "t.conf", p);
  auto spec = load_provider("x", std::move(*(*doc)["provider"]["x"].as_table()), p, "t.conf");
  for (const auto& problem : p.list()) BOOST_TEST_MESSAGE(problem.to_string());
  BOOST_REQUIRE(spec.has_value());
  return std::move(*spec);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(variables)

BOOST_AUTO_TEST_CASE(users_file_beats_provider_beats_builtin) {
  const auto spec = spec_with("user_id = \"${user}\"\nregion = \"eu\"\n");
  Variables v(spec);
  v.set_builtin("user", Json::Value("alice"));
  BOOST_TEST(v.lookup("user_id")->asString() == "alice");  // the provider default
  v.set_user_key("user_id", Json::Value("user-live-42"));
  BOOST_TEST(v.lookup("user_id")->asString() == "user-live-42");  // per user
  v.save("user_id", Json::Value("from-response"));
  BOOST_TEST(v.lookup("user_id")->asString() == "from-response");
}

BOOST_AUTO_TEST_CASE(a_key_that_redefines_a_builtin_reads_the_builtin_inside) {
  const auto spec = spec_with("user = \"${user}@corp\"\nemail = \"${user}@mail.corp\"\nuser_id = \"x\"\nregion = \"eu\"\n");
  Variables v(spec);
  v.set_builtin("user", Json::Value("alice"));
  BOOST_TEST(v.lookup("user")->asString() == "alice@corp");
  // email: the users file's, else the provider's fallback, whose ${user} is
  // (like every ${user} of this provider) the redefined one.
  BOOST_TEST(v.lookup("email")->asString() == "alice@corp@mail.corp");
  v.set_user_key("email", Json::Value("a@example.com"));
  BOOST_TEST(v.lookup("email")->asString() == "a@example.com");
}

BOOST_AUTO_TEST_CASE(keys_referring_to_each_other_end_in_an_error_not_a_loop) {
  const auto spec = spec_with("user_id = \"${region}\"\nregion = \"${user_id}\"\n");
  Variables v(spec);
  BOOST_CHECK_THROW(expand_text("${user_id}", v), TemplateError);
}

BOOST_AUTO_TEST_CASE(builtins_that_are_not_overridable_are_refused) {
  Problems p;
  auto doc = tomlu::parse("[provider.x]\ncode = \"1\"\n", "t.conf", p);
  load_provider("x", std::move(*(*doc)["provider"]["x"].as_table()), p, "t.conf");
  bool found = false;
  for (const auto& problem : p.list()) found = found || problem.message.find("is a built-in variable") != std::string::npos;
  BOOST_TEST(found);
}

BOOST_AUTO_TEST_SUITE_END()
