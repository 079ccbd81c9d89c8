// Holes an adversarial review found (issue #13), each proven closed through
// real libpam: bounded prompts, masked provider text, trust files checked
// like the config, bodies that are always valid JSON; and (issue #17) an HTTP
// plugin that cannot be used refuses the login.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/json.h"
#include "example_provider.h"
#include "pam_harness.h"
#include "temp_dir.h"

using namespace otp::testing;

namespace {

const char* kAlicePhone = "+15551234567";

struct Fixture {
  PamHarness pam;
  void config(const std::string& top) { pam.write_config(pam.default_config(top)); }
};

}  // namespace

// ---------------------------------------------------------------------------
BOOST_FIXTURE_TEST_SUITE(bounded_prompts, Fixture)

// A client that answers "" at once and forever (a script, pamtester at the
// end of its input) gets at most 2 * attempts + resends code prompts.
BOOST_AUTO_TEST_CASE(an_always_empty_client_is_prompted_a_bounded_number_of_times) {
  struct Case {
    int attempts, resends, cooldown;
  };
  for (const Case c : {Case{3, 1, 30}, Case{3, 0, 30}, Case{3, 3, 0}, Case{1, 10, 3600}, Case{5, 2, 30}}) {
    Shared::mock().reset();
    config("attempts = " + std::to_string(c.attempts) + "\nresends = " + std::to_string(c.resends) +
           "\nresend_cooldown = " + std::to_string(c.cooldown));
    std::vector<Responder> answers(2000, say(""));
    answers.insert(answers.begin(), say("alice-password"));
    const auto r = pam.authenticate("alice", answers);
    BOOST_TEST_INFO("attempts " << c.attempts << ", resends " << c.resends << ", cooldown " << c.cooldown << "\n"
                                << r.describe().substr(0, 2000));
    BOOST_TEST(r.rc == PAM_MAXTRIES);
    const std::size_t code_prompts = r.prompts.size() - 1;
    BOOST_TEST(code_prompts <= static_cast<std::size_t>(2 * c.attempts + c.resends));
    BOOST_TEST(Shared::mock().outbox().size() <= static_cast<std::size_t>(1 + c.resends));
  }
}

BOOST_AUTO_TEST_CASE(an_early_enter_then_the_code_still_works) {
  const auto r = pam.authenticate("alice", {say("alice-password"), say(""), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.errors.at(0).find("Please wait") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Provider text is masked like destinations before it is logged or shown.
BOOST_FIXTURE_TEST_SUITE(provider_text, Fixture)

BOOST_AUTO_TEST_CASE(a_provider_error_that_echoes_the_number_is_logged_masked) {
  otp::mock::Dialects d;
  d.twilio.invalid_numbers = {kAlicePhone};
  Shared::mock().configure_dialects(d);
  pam.write_config("users_file = \"" + pam.users_path() + "\"\nca_file = \"" + Shared::pki().ca_cert + "\"\n[provider.corp]\npreset = \"twilio_verify\"\nbase_url = \"" + pam.mock_url() +
                   "\"\naccount_sid = \"" + d.twilio.account_sid + "\"\nauth_token = \"" + d.twilio.auth_token +
                   "\"\nservice_sid = \"" + d.twilio.service_sid + "\"\n");
  const auto r = pam.authenticate("alice", {say("alice-password")});
  Shared::mock().configure_dialects(otp::mock::Dialects{});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.logged("Invalid parameter `To`: +1******4567"));
  BOOST_TEST(!r.logged(kAlicePhone));
  BOOST_TEST(!r.logged("5551234567"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Every body is valid JSON, whatever bytes a user name or a users-file value
// hold: invalid UTF-8 is refused, never sent raw.
BOOST_FIXTURE_TEST_SUITE(utf8_bodies, Fixture)

BOOST_AUTO_TEST_CASE(a_user_name_that_is_not_utf8_sends_nothing) {
  const std::string latin1 = "b\xe9" "a";  // "béa" in Latin-1, as an old NSS source might hold it
  pam.write_users("* phone=+15551234567\n");
  const auto r = pam.authenticate(latin1, {say("bea-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged("is not valid UTF-8"));
  BOOST_TEST(Shared::mock().requests().empty());
}

BOOST_AUTO_TEST_CASE(a_users_file_value_that_is_not_utf8_is_refused_at_load) {
  pam.write_users("alice phone=+15551234567 user_id=\xff\xfe\n");
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged(pam.users_path() + ":1: is not valid UTF-8"));
  BOOST_TEST(Shared::mock().requests().empty());
}

BOOST_AUTO_TEST_CASE(a_code_that_is_not_utf8_is_refused_locally) {
  config("code_pattern = \".\"");
  const auto r = pam.authenticate("alice", {say("alice-password"), say("12\xff" "34"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.errors.at(0) == "That is not a valid code, 2 attempts left.");
  for (const auto& request : Shared::mock().requests()) BOOST_TEST(request.body.find("\xff") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// The conversation's details (issue #14): Ctrl-D, attempts, plurals.
BOOST_FIXTURE_TEST_SUITE(conversation, Fixture)

// A NULL response (misc_conv at end of input) ends the login; it is no
// empty answer, which would ask for a new code.
BOOST_AUTO_TEST_CASE(ctrl_d_at_the_code_prompt_is_end_of_input) {
  const auto r = pam.authenticate("alice", {say("alice-password"), null_response(), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_CONV_ERR);
  BOOST_TEST(r.prompts.size() == 2u);
  BOOST_TEST(Shared::mock().outbox().size() == 1u);
  BOOST_TEST(r.errors.empty());  // no "Please wait" for a resend nobody asked for
}

// attempts= counts every attempt spent, refused locally or not; one left is
// "1 attempt".
BOOST_AUTO_TEST_CASE(attempts_count_every_answer_and_speak_english) {
  const auto r = pam.authenticate("alice", {say("alice-password"), say("not-a-code"), wrong_code_for(kAlicePhone),
                                            code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.errors.at(0) == "That is not a valid code, 2 attempts left.");
  BOOST_TEST(r.errors.at(1) == "Incorrect code, 1 attempt left.");
  BOOST_TEST(r.logged("attempts=3"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// The module loads libcurl through its plugin, pam_otp/http.so beside it, when
// a code must be sent. A plugin that is missing or from another build refuses
// the login, whatever failmode says: it is this machine's fault, not an outage.
BOOST_FIXTURE_TEST_SUITE(http_plugin, Fixture)

namespace {

// A copy of the module in a directory of its own; its plugin, if `plugin` names a file.
std::string module_copy(const PamHarness& pam, const std::string& plugin) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(pam.dir()) / "lib";
  fs::create_directories(dir / "pam_otp");
  fs::copy_file(PAM_OTP_MODULE_PATH, dir / "pam_otp.so", fs::copy_options::overwrite_existing);
  if (!plugin.empty()) fs::copy_file(plugin, dir / "pam_otp" / "http.so", fs::copy_options::overwrite_existing);
  return (dir / "pam_otp.so").string();
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_missing_plugin_refuses_the_login_and_says_why) {
  Shared::mock().reset();
  config("failmode = \"safe\"");
  pam.module = module_copy(pam, "");
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);  // not failmode's way through
  BOOST_TEST(r.logged("cannot load the HTTP plugin"));
  BOOST_TEST(r.logged("refused on this machine"));
  BOOST_TEST(Shared::mock().outbox().empty());
}

// Another build's plugin names its entry point after its own headers; a
// library without this build's entry point stands in for it here.
BOOST_AUTO_TEST_CASE(a_plugin_without_this_builds_entry_point_refuses_the_login) {
  Shared::mock().reset();
  config("failmode = \"safe\"");
  pam.module = module_copy(pam, PAM_OTP_MODULE_PATH);
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged("is not from this build of pam_otp"));
  BOOST_TEST(Shared::mock().outbox().empty());
}

// A plugin that needs a symbol nothing defines (a partial upgrade) fails to
// load, which refuses the login, instead of killing the login's process at
// the first call (http/plugin.cc binds everything at load).
BOOST_AUTO_TEST_CASE(a_plugin_that_needs_a_missing_symbol_refuses_the_login) {
  Shared::mock().reset();
  config("failmode = \"safe\"");
  pam.module = module_copy(pam, PAM_OTP_UNRESOLVED_PLUGIN_PATH);
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged("cannot load the HTTP plugin"));
  BOOST_TEST(r.logged("pam_otp_test_symbol_nobody_defines"));
  BOOST_TEST(Shared::mock().outbox().empty());
}

BOOST_AUTO_TEST_CASE(the_plugin_beside_the_module_is_used) {
  Shared::mock().reset();
  config("");
  pam.module = module_copy(pam, std::filesystem::path(PAM_OTP_MODULE_PATH).parent_path() / "pam_otp" / "http.so");
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
}

BOOST_AUTO_TEST_SUITE_END()
