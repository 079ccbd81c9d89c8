#include "provider/presets.h"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <set>
#include <string>

#include "base/toml_util.h"
#include "example_provider.h"
#include "preset_tables.h"
#include "provider/spec_loader.h"

using namespace otp;
using namespace otp::provider;

namespace {

const auto& kMinimalTables = otp::testing::kMinimalPresetTables;

std::optional<ProviderSpec> load_preset(const std::string& preset, const std::string& keys, Problems& p) {
  auto doc = tomlu::parse("[provider.x]\npreset = \"" + preset + "\"\n" + keys, "t.conf", p);
  if (!doc) return std::nullopt;
  return load_provider("x", std::move(*(*doc)["provider"]["x"].as_table()), p, "t.conf");
}

std::string all(const Problems& p) { return testing::problem_lines(p); }

}  // namespace

BOOST_AUTO_TEST_SUITE(presets)

// Every file of conf/providers is built in, and the tests have a minimal
// table for each: a new preset is a file there and one in tests/support/presets.
BOOST_AUTO_TEST_CASE(every_preset_is_built_in) {
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(PAM_OTP_SOURCE_DIR "/conf/providers"))
    if (entry.path().extension() == ".conf") files.insert(entry.path().stem().string());
  std::string listed;
  for (const auto& name : files) listed += (listed.empty() ? "" : ", ") + name;
  BOOST_TEST(!files.empty());
  BOOST_TEST(preset_list() == listed);
  for (const auto& name : files) BOOST_TEST(kMinimalTables.count(name) == 1u, name);
  BOOST_TEST(builtin_presets().size() == kMinimalTables.size());
}

BOOST_AUTO_TEST_CASE(every_preset_loads_with_its_required_keys) {
  for (const auto& [name, keys] : kMinimalTables) {
    Problems p;
    const auto spec = load_preset(name, keys, p);
    BOOST_TEST_INFO(name << ":\n" << all(p));
    BOOST_TEST(spec.has_value());
    if (spec) BOOST_TEST(!spec->send.empty());
  }
}

BOOST_AUTO_TEST_CASE(missing_required_keys_are_named) {
  Problems p;
  BOOST_TEST(!load_preset("twilio_verify", "account_sid = \"AC1\"\n", p).has_value());
  const std::string text = all(p);
  BOOST_TEST(text.find("key 'provider.x.auth_token': is required by preset 'twilio_verify'") != std::string::npos);
  BOOST_TEST(text.find("key 'provider.x.service_sid': is required by preset 'twilio_verify'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(misspelled_keys_are_refused) {
  Problems p;
  BOOST_TEST(!load_preset("stytch", kMinimalTables.at("stytch") + "expiration_minute = 5\n", p).has_value());
  BOOST_TEST(all(p).find("t.conf:5: key 'provider.x.expiration_minute': unknown key") != std::string::npos);
  // The message lists what the preset takes.
  BOOST_TEST(all(p).find("preset 'stytch' takes: base_url expiration_minutes locale project_id secret)") !=
             std::string::npos, all(p));
}

BOOST_AUTO_TEST_CASE(each_preset_knows_the_keys_an_administrator_may_set) {
  using Keys = std::set<std::string, std::less<>>;
  BOOST_TEST((preset_keys("stytch") == Keys{"base_url", "expiration_minutes", "locale", "project_id", "secret"}));
  BOOST_TEST((preset_keys("twilio_verify") == Keys{"account_sid", "auth_token", "base_url", "service_sid"}));
  BOOST_TEST(preset_keys("baanx").count("us_env") == 1);   // defined with a default
  BOOST_TEST(preset_keys("baanx").count("email") == 1);    // a built-in the preset redefines
  BOOST_TEST(preset_keys("blockid").count("user_id") == 1);
  BOOST_TEST(preset_keys("stytch").count("stytch_host") == 0);  // computed by the preset (choose)
  BOOST_TEST(preset_keys("stytch").count("method_id") == 0);    // saved from an answer
  BOOST_TEST(preset_keys("nonesuch").empty());
}

BOOST_AUTO_TEST_CASE(stytch_picks_its_host_from_the_project_id) {
  Problems p;
  BOOST_TEST(load_preset("stytch", kMinimalTables.at("stytch"), p)->base_urls.at(0) == "https://test.stytch.com");
  BOOST_TEST(load_preset("stytch", "project_id = \"project-live-1\"\nsecret = \"s\"\n", p)->base_urls.at(0) ==
             "https://api.stytch.com");
  BOOST_TEST(load_preset("stytch", kMinimalTables.at("stytch") + "base_url = \"https://127.0.0.1:9\"\n", p)
                 ->base_urls.at(0) == "https://127.0.0.1:9");
}

BOOST_AUTO_TEST_CASE(presets_know_their_channels) {
  Problems p;
  const auto twilio = load_preset("twilio_verify", kMinimalTables.at("twilio_verify"), p);
  BOOST_TEST(twilio->channels.at("voice") == "call");
  BOOST_TEST(!load_preset("blockid", kMinimalTables.at("blockid"), p)->supports_channel("voice"));
  BOOST_TEST(load_preset("privacyidea", kMinimalTables.at("privacyidea"), p)->destination_required == false);
  BOOST_TEST(load_preset("baanx", kMinimalTables.at("baanx"), p)->uses_password);
  BOOST_TEST(!load_preset("privacyidea", kMinimalTables.at("privacyidea"), p)->uses_password);
}

BOOST_AUTO_TEST_SUITE_END()
