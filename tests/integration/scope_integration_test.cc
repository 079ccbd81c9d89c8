// Steps 4 and 6 of the login (docs/design.md, "The login flow") through
// real libpam: who is asked for a code (services, networks, groups),
// unenrolled users, and channel = "ask".
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <syslog.h>

#include <cstdlib>

#include "pam_harness.h"

using namespace otp::testing;

namespace {

struct ScopeFixture {
  PamHarness pam;

  // The documented stack: an out-of-scope user logs in with the password alone.
  void expect_out_of_scope(const std::string& user, const std::string& rule) {
    const auto r = pam.authenticate(user, {say(user + "-password")});
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_SUCCESS);
    BOOST_TEST(r.prompts.size() == 1u);
    BOOST_TEST(r.logged("SYSLOG(6): result=out_of_scope user=" + user));
    BOOST_TEST(r.logged("reason=\"" + rule + "\""));
    BOOST_TEST(Shared::mock().requests().empty());
    // pam_otp alone: its PAM_IGNORE is the only answer, which libpam reports
    // as PAM_PERM_DENIED (pam_otp itself never returns that code).
    pam.password_control = "";
    const auto alone = pam.authenticate(user, {});
    BOOST_TEST_INFO(alone.describe());
    BOOST_TEST(alone.rc == PAM_PERM_DENIED);
    pam.password_control = "requisite";
  }
  void expect_code_asked(const std::string& user, const std::string& to) {
    const auto r = pam.authenticate(user, {say(user + "-password"), code_for(to)});
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_SUCCESS);
    BOOST_TEST(r.prompts.size() == 2u);
    BOOST_TEST(r.logged("result=success user=" + user));
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(scope_rules, ScopeFixture)

BOOST_AUTO_TEST_CASE(exempt_services) {
  pam.write_config(pam.default_config("exempt_services = [\"cron\", \"otp-test\"]"));
  expect_out_of_scope("alice", "exempt_services: otp-test");
}

BOOST_AUTO_TEST_CASE(exempt_networks_ipv4) {
  pam.write_config(pam.default_config("exempt_networks = [\"10.0.0.0/8\", \"2001:db8::/32\"]"));
  pam.rhost = "10.1.2.3";
  expect_out_of_scope("alice", "exempt_networks: 10.1.2.3 is in 10.0.0.0/8");
  pam.rhost = "192.0.2.1";
  expect_code_asked("alice", "+15551234567");
}

BOOST_AUTO_TEST_CASE(exempt_networks_ipv6_host_names_and_console) {
  pam.write_config(pam.default_config("exempt_networks = [\"2001:db8::/32\", \"0.0.0.0/0\"]"));
  pam.rhost = "2001:db8::5";
  expect_out_of_scope("alice", "exempt_networks: 2001:db8::5 is in 2001:db8::/32");
  pam.rhost = "host.example";  // a name never matches, even 0.0.0.0/0
  expect_code_asked("alice", "+15551234567");
  Shared::mock().reset();
  pam.rhost = "";  // a console login never matches
  expect_code_asked("alice", "+15551234567");
}

BOOST_AUTO_TEST_CASE(require_groups) {
  pam.write_config(pam.default_config("require_groups = [\"staff\"]"));
  expect_out_of_scope("alice", "require_groups: the user is in none of them");
  expect_code_asked("carol", "+15557654321");  // carol is in staff (supplementary)
}

BOOST_AUTO_TEST_CASE(exempt_groups_supplementary_and_primary) {
  pam.write_config(pam.default_config("exempt_groups = [\"wheel\", \"carol\"]"));
  expect_out_of_scope("alice", "exempt_groups: wheel");  // supplementary
  expect_out_of_scope("carol", "exempt_groups: carol");  // primary
}

BOOST_AUTO_TEST_CASE(an_unknown_group_is_not_a_login_failure) {
  pam.write_config(pam.default_config("exempt_groups = [\"no-such-group\"]"));
  expect_code_asked("alice", "+15551234567");
}

// A group line larger than any fixed buffer (directory groups with many
// members): membership is still decided, for both rules.
BOOST_AUTO_TEST_CASE(a_group_of_many_members) {
  pam.write_config(pam.default_config("require_groups = [\"mfa\"]"));
  expect_code_asked("alice", "+15551234567");
  Shared::mock().reset();
  expect_out_of_scope("bob", "require_groups: the user is in none of them");
  pam.write_config(pam.default_config("exempt_groups = [\"mfa\"]"));
  expect_out_of_scope("alice", "exempt_groups: mfa");
}

// A group that cannot be read (the directory is down) or does not exist
// never takes anyone out of scope: a required one counts as if the user
// were in it, an exempting one as if they were not; LOG_ERR says which.
BOOST_AUTO_TEST_CASE(a_group_that_cannot_be_read_keeps_the_user_in_scope) {
  setenv("PAM_OTP_TEST_NSS_BROKEN_GROUPS", "broken", 1);
  for (const char* key : {"require_groups", "exempt_groups"}) {
    BOOST_TEST_CONTEXT(key) {
      pam.write_config(pam.default_config(std::string(key) + " = [\"broken\"]"));
      const auto r = pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")});
      BOOST_TEST_INFO(r.describe());
      BOOST_TEST(r.rc == PAM_SUCCESS);
      BOOST_TEST(r.prompts.size() == 2u);
      BOOST_TEST(r.logged_at(LOG_ERR, std::string(key) + ": group 'broken' cannot be read"));
      Shared::mock().reset();
    }
  }
  unsetenv("PAM_OTP_TEST_NSS_BROKEN_GROUPS");
  pam.write_config(pam.default_config("require_groups = [\"no-such-group\"]"));
  const auto missing = pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")});
  BOOST_TEST_INFO(missing.describe());
  BOOST_TEST(missing.rc == PAM_SUCCESS);
  BOOST_TEST(missing.prompts.size() == 2u);
  BOOST_TEST(missing.logged_at(LOG_ERR, "require_groups: group 'no-such-group' does not exist"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(enrolment_and_channels, ScopeFixture)

BOOST_AUTO_TEST_CASE(unenrolled_allow_lets_the_password_decide) {
  pam.write_config(pam.default_config("unenrolled = \"allow\""));
  const auto r = pam.authenticate("dave", {say("dave-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.logged("SYSLOG(6): result=unenrolled user=dave"));
  BOOST_TEST(Shared::mock().requests().empty());
}

BOOST_AUTO_TEST_CASE(unenrolled_deny_says_only_that_it_failed) {
  pam.write_users("dave channel=email\n");  // listed, but no address
  const auto r = pam.authenticate("dave", {say("dave-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.errors == std::vector<std::string>{"Authentication failed."}, boost::test_tools::per_element());
  BOOST_TEST(r.logged("reason=\"no destination for channel 'email'; unenrolled=deny\""));
  BOOST_TEST(Shared::mock().requests().empty());
}

BOOST_AUTO_TEST_CASE(ask_offers_a_menu_of_masked_destinations) {
  pam.write_users("carol phone=+15557654321 email=carol@example.com channel=ask\n");
  const auto r = pam.authenticate("carol", {say("carol-password"), say("4"), code_for("carol@example.com")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_REQUIRE(r.prompts.size() == 3u);
  BOOST_TEST(r.prompts[1] ==
             "Where should the code go?\n"
             "  1) SMS to +1******4321\n"
             "  2) Voice call to +1******4321\n"
             "  3) WhatsApp to +1******4321\n"
             "  4) E-mail to c***@example.com\n"
             "Choice [1-4]: ");
  BOOST_TEST(r.echo[1] == true);
  BOOST_TEST(Shared::mock().outbox().at(0).channel == "email");
  BOOST_TEST(r.prompts[2].find("c***@example.com") != std::string::npos);
  BOOST_TEST(r.logged("channel=email destination=c***@example.com"));
}

BOOST_AUTO_TEST_CASE(invalid_choices_cost_attempts) {
  pam.write_users("carol phone=+15557654321 email=carol@example.com channel=ask\n");
  const auto asked = pam.authenticate("carol", {say("carol-password"), say("9"), say("1"), code_for("+15557654321")});
  BOOST_TEST_INFO(asked.describe());
  BOOST_TEST(asked.rc == PAM_SUCCESS);
  BOOST_TEST(asked.errors.at(0) == "That is not one of the choices, 2 attempts left.");
  BOOST_TEST(Shared::mock().outbox().at(0).channel == "sms");
  // The menu and the codes share the attempts.
  Shared::mock().reset();
  const auto wrong = wrong_code_for("+15557654321");
  const auto spent = pam.authenticate("carol", {say("carol-password"), say("x"), say("1"), wrong, wrong});
  BOOST_TEST_INFO(spent.describe());
  BOOST_TEST(spent.rc == PAM_MAXTRIES);
  BOOST_TEST(spent.errors.back() == "Incorrect code. No attempts left.");
  const auto none = pam.authenticate("carol", {say("carol-password"), say(""), say("0"), say("five")});
  BOOST_TEST(none.rc == PAM_MAXTRIES);
  BOOST_TEST(none.errors.back() == "That is not one of the choices. No attempts left.");
}

BOOST_AUTO_TEST_CASE(the_provider_channels_limit_the_menu) {
  pam.write_users("carol phone=+15557654321 email=carol@example.com channel=ask\n");
  std::string config = pam.default_config();
  config.insert(config.find("api_key ="), "channels = [\"sms\", \"email\"]\n");
  pam.write_config(config);
  const auto r = pam.authenticate("carol", {say("carol-password"), say("2"), code_for("carol@example.com")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.prompts.at(1).find("Choice [1-2]: ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(one_destination_means_no_menu) {
  pam.write_users("alice phone=+15551234567 channel=ask\n");
  std::string config = pam.default_config();
  config.insert(config.find("api_key ="), "channels = [\"sms\"]\n");
  pam.write_config(config);
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.prompts.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_channel_the_provider_lacks_is_a_configuration_error) {
  pam.write_users("alice phone=+15551234567 channel=voice\n");
  std::string config = pam.default_config();
  config.insert(config.find("api_key ="), "channels = [\"sms\"]\n");
  pam.write_config(config);
  const auto r = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged("has no channel 'voice'"));
}

BOOST_AUTO_TEST_SUITE_END()
