// The login flow (docs/design.md, "The login flow") through real libpam:
// pam_matrix for the password, then pam_otp.so
// against the mock provider over real TLS. One case per outcome.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>

#include <cstdlib>
#include <thread>

#include "base/json.h"
#include "example_provider.h"
#include "pam_harness.h"
#include "time_bound.h"
#include "trap_listener.h"

using namespace otp::testing;
using std::chrono::milliseconds;

namespace {

const char* kAlicePhone = "+15551234567";

// Requests the module made to the provider (the mock records nothing else).
std::size_t provider_requests() { return Shared::mock().requests().size(); }

Json::Value last_body() {
  const auto requests = Shared::mock().requests();
  BOOST_REQUIRE(!requests.empty());
  auto doc = otp::json::parse(requests.back().body);
  BOOST_REQUIRE(doc.has_value());
  return *doc;
}

struct Fixture {
  PamHarness pam;
};

}  // namespace


BOOST_FIXTURE_TEST_SUITE(login, Fixture)

BOOST_AUTO_TEST_CASE(right_code_first_time) {
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_REQUIRE(r.prompts.size() == 2u);
  BOOST_TEST(r.prompts[1] == "Code sent to +1******4567 (Enter for a new one): ");
  BOOST_TEST(r.echo[1] == false);
  BOOST_TEST(Shared::mock().outbox().size() == 1u);
  BOOST_TEST(Shared::mock().outbox()[0].to == kAlicePhone);
  BOOST_TEST(r.logged("result=success user=alice"));
  BOOST_TEST(r.logged("destination=+1******4567"));
  BOOST_TEST(Shared::mock().handshakes() == 1);  // send and verify share one TLS connection
}

BOOST_AUTO_TEST_CASE(wrong_then_right) {
  const auto r = pam.authenticate("alice", {say("alice-password"), wrong_code_for(kAlicePhone), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.errors == std::vector<std::string>{"Incorrect code, 2 attempts left."}, boost::test_tools::per_element());
  BOOST_TEST(r.logged("attempts=2"));
}

BOOST_AUTO_TEST_CASE(attempts_exhausted) {
  const auto wrong = wrong_code_for(kAlicePhone);
  const auto r = pam.authenticate("alice", {say("alice-password"), wrong, wrong, wrong, wrong});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_MAXTRIES);
  BOOST_TEST(r.errors.back() == "Incorrect code. No attempts left.");
  BOOST_TEST(r.prompts.size() == 4u);  // password + 3 codes
  BOOST_TEST(r.logged("result=max_tries"));
}

BOOST_AUTO_TEST_CASE(resend_then_right_code_with_cooldown) {
  pam.write_config(pam.default_config("resend_cooldown = 1"));
  Responder later = [](const std::string&) {
    std::this_thread::sleep_for(milliseconds(1100));
    return std::string();
  };
  const auto r = pam.authenticate("alice", {say("alice-password"), say(""), later, code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(Shared::mock().outbox().size() == 2u);
  BOOST_TEST(r.errors.at(0).find("Please wait 1 seconds") != std::string::npos);
  BOOST_TEST(r.infos.at(0) == "A new code was sent to +1******4567.");
}

BOOST_AUTO_TEST_CASE(expired_code_then_resend) {
  Responder expire_then_answer = [](const std::string& prompt) {
    Shared::mock().expire_codes();
    return code_for(kAlicePhone)(prompt);
  };
  const auto r = pam.authenticate("alice", {say("alice-password"), expire_then_answer, say(""), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.errors.at(0) == "The code has expired. Press Enter to get a new one.");
  BOOST_TEST(Shared::mock().outbox().size() == 2u);
}

BOOST_AUTO_TEST_CASE(expired_code_without_resend) {
  pam.write_config(pam.default_config("resends = 0"));
  Responder expire_then_answer = [](const std::string& prompt) {
    Shared::mock().expire_codes();
    return code_for(kAlicePhone)(prompt);
  };
  const auto r = pam.authenticate("alice", {say("alice-password"), expire_then_answer});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.errors.at(0) == "The code has expired.");
}

BOOST_AUTO_TEST_CASE(lockout_at_verify_then_at_send) {
  auto settings = Shared::mock().settings();
  settings.max_failures = 2;
  Shared::mock().configure(settings);
  const auto wrong = wrong_code_for(kAlicePhone);
  const auto first = pam.authenticate("alice", {say("alice-password"), wrong, wrong});
  BOOST_TEST_INFO(first.describe());
  BOOST_TEST(first.rc == PAM_MAXTRIES);
  BOOST_TEST(first.errors.back() == "Too many failed attempts. Try again in 15 minutes.");
  BOOST_TEST(first.logged("result=locked"));

  const auto second = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(second.describe());
  BOOST_TEST(second.rc == PAM_MAXTRIES);
  BOOST_TEST(second.prompts.size() == 1u);  // the password only: no code prompt
  BOOST_TEST(second.errors.at(0).find("Try again in 15 minutes.") != std::string::npos);
}

// A custom message shows each placeholder in its own unit ({seconds} used
// to print minutes).
BOOST_AUTO_TEST_CASE(custom_lockout_message_in_seconds_and_minutes) {
  auto settings = Shared::mock().settings();
  settings.max_failures = 1;
  Shared::mock().configure(settings);
  pam.write_config(pam.default_config(R"(messages = { retry_in = "Wait {seconds} s ({minutes} min)." })"));
  const auto r = pam.authenticate("alice", {say("alice-password"), wrong_code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_MAXTRIES);
  BOOST_TEST(r.errors.back() == "Too many failed attempts. Wait 900 s (15 min).");
}

BOOST_AUTO_TEST_CASE(rate_limit) {
  auto settings = Shared::mock().settings();
  settings.max_sends = 1;
  Shared::mock().configure(settings);
  pam.write_config(pam.default_config("resend_cooldown = 0"));
  const auto r = pam.authenticate("alice", {say("alice-password"), say(""), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_MAXTRIES);
  BOOST_TEST(r.errors.at(0) == "Too many codes requested. Try again in 10 minutes.");
  BOOST_TEST(r.logged("result=rate_limited"));
}

BOOST_AUTO_TEST_CASE(provider_down_failmode_secure) {
  std::string config = pam.default_config("timeout = 2\nconnect_timeout = 1");
  config.replace(config.find(pam.mock_url()), pam.mock_url().size(), "https://127.0.0.1:1");
  pam.write_config(config);
  const auto r = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
  BOOST_TEST(r.errors.at(0) == "The code service is unavailable.");
  BOOST_TEST(r.elapsed < within(milliseconds(2000)));
}

BOOST_AUTO_TEST_CASE(provider_down_failmode_safe_lets_the_login_through) {
  std::string config = pam.default_config("failmode = \"safe\"\ntimeout = 2\nconnect_timeout = 1");
  config.replace(config.find(pam.mock_url()), pam.mock_url().size(), "https://127.0.0.1:1");
  pam.write_config(config);
  // With the documented stack, pam_otp's PAM_IGNORE leaves pam_matrix's success.
  const auto r = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.logged("SYSLOG(4)"));  // LOG_WARNING
  BOOST_TEST(r.logged("result=failopen"));
  BOOST_TEST(r.logged("WITHOUT a code"));
  BOOST_TEST(r.elapsed < within(milliseconds(2000)));
  // pam_otp alone: its PAM_IGNORE is the only answer, which libpam turns into a denial.
  pam.password_control = "";
  const auto alone = pam.authenticate("alice", {});
  BOOST_TEST_INFO(alone.describe());
  BOOST_TEST(alone.rc != PAM_SUCCESS);
  BOOST_TEST(alone.logged("result=failopen"));
}

BOOST_AUTO_TEST_CASE(hung_provider_is_bounded_by_timeout) {
  const int timeout = short_timeout();
  pam.write_config(pam.default_config("timeout = " + std::to_string(timeout) +
                                      "\nconnect_timeout = " + std::to_string(short_connect_timeout())));
  otp::mock::Fault hang;
  hang.hang = true;
  Shared::mock().set_fault(hang);
  const auto r = pam.authenticate("alice", {say("alice-password")});
  Shared::mock().clear_fault();
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
  BOOST_TEST(r.elapsed >= milliseconds(timeout * 1000 - 100));
  BOOST_TEST(r.elapsed < within(milliseconds(timeout * 1000)));
  BOOST_TEST(r.logged("timeout"));
}

BOOST_AUTO_TEST_CASE(deadline_bounds_the_provider_time_of_a_login) {
  // Each answer takes 1.2 s: the send fits in the 2 s deadline, the verify
  // only gets what is left (0.8 s) and times out. (All times k times longer
  // in slow builds, where the send alone takes seconds.)
  const int k = short_timeout() / 2;
  pam.write_config(pam.default_config("deadline = " + std::to_string(2 * k) + "\ntimeout = " + std::to_string(5 * k)));
  otp::mock::Fault slow;
  slow.delay_ms = 1200 * k;
  Shared::mock().set_fault(slow);
  Responder typing_slowly = [](const std::string& prompt) {
    std::this_thread::sleep_for(milliseconds(1500));  // the user's time does not count
    return code_for(kAlicePhone)(prompt);
  };
  const auto r = pam.authenticate("alice", {say("alice-password"), typing_slowly});
  Shared::mock().clear_fault();
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
  BOOST_TEST(r.prompts.size() == 2u);
  BOOST_TEST(r.logged("timeout"));
  BOOST_TEST(r.elapsed < within(milliseconds(2000 * k + 1500)));
}

BOOST_AUTO_TEST_CASE(bad_credentials_are_a_service_error) {
  std::string config = pam.default_config();
  config.replace(config.find("test-api-key"), 12, "wrong-api-key");
  pam.write_config(config);
  const auto r = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged("SYSLOG(3)"));  // LOG_ERR
  BOOST_TEST(r.logged("The API key is not valid"));
  BOOST_TEST(r.logged("wrong-api-key") == false);
}

BOOST_AUTO_TEST_CASE(unsafe_config_mode_sends_nothing) {
  pam.write_config(pam.default_config(), 0644);
  const auto r = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged(pam.config_path() + ": holds secrets and is readable by others"));
  BOOST_TEST(provider_requests() == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_key_sends_nothing) {
  pam.write_config(pam.default_config("atempts = 5"));
  const auto r = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged(pam.config_path() + ":3: key 'atempts': unknown key"));
  BOOST_TEST(provider_requests() == 0u);
}

BOOST_AUTO_TEST_CASE(syntax_error_sends_nothing) {
  pam.write_config(pam.default_config("failmode = secure"));
  const auto r = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged(pam.config_path() + ":3: TOML syntax error"));
  BOOST_TEST(provider_requests() == 0u);
}

BOOST_AUTO_TEST_CASE(plain_http_to_a_remote_host_is_refused_at_load) {
  std::string config = pam.default_config();
  config.replace(config.find(pam.mock_url()), pam.mock_url().size(), "http://otp.example");
  pam.write_config(config);
  const auto r = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged("uses http:// to a host that is not loopback"));
  BOOST_TEST(provider_requests() == 0u);
}

// Any local user can bind an unprivileged loopback port while the real
// service is down, and without TLS nothing proves who answers: such a
// plain-http URL is a configuration error that names the file and line.
BOOST_AUTO_TEST_CASE(plain_http_to_an_unprivileged_loopback_port_is_refused_at_load) {
  TrapListener squatter;  // what any local user could start on that port
  std::string config = pam.default_config();
  const std::string url = "http://127.0.0.1:" + std::to_string(squatter.port());
  config.replace(config.find(pam.mock_url()), pam.mock_url().size(), url);
  pam.write_config(config);
  const auto r = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged(pam.config_path() + ":"));
  BOOST_TEST(r.logged("'" + url + "' uses http:// to port " + std::to_string(squatter.port()) +
                      ", which any local user can bind"));
  BOOST_TEST(squatter.connections() == 0);
}

BOOST_AUTO_TEST_CASE(wrong_password_sends_nothing) {
  const auto r = pam.authenticate("alice", {say("not-the-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.prompts.size() == 1u);
  BOOST_TEST(provider_requests() == 0u);
}

BOOST_AUTO_TEST_CASE(incorrect_marker_from_an_earlier_module_sends_nothing) {
  // When an earlier module failed in a stack that goes on (`required`),
  // PAM_AUTHTOK holds Linux-PAM's marker (sshd passes it as the password of
  // invalid users). pam_set_items plants it, as a failed pam_unix would.
  // (incorrect_marker/ tries every length of it.)
  const auto r = pam.authenticate_with_authtok("alice", "\b\n\r\177INCORRECT", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.logged("result=earlier_module_failed"));
  BOOST_TEST(provider_requests() == 0u);
}

BOOST_AUTO_TEST_CASE(user_name_and_code_cannot_change_the_request) {
  const std::string user = "we\"ird\\${x}";
  pam.write_users("we\"ird\\${x} phone=+15550001111\n");
  pam.write_config(pam.default_config("code_pattern = \"^.+$\""));
  const std::string code = "1\"2\\3\n4${code}";
  const auto r = pam.authenticate(user, {say("weird-password"), say(code), say(code), say(code)});
  BOOST_TEST_INFO(r.describe());
  const auto requests = Shared::mock().requests();
  BOOST_REQUIRE(requests.size() == 4u);  // send, then three verifies
  const auto send = otp::json::parse(requests[0].body);
  BOOST_REQUIRE(send.has_value());
  BOOST_TEST((*send)["user"].asString() == user);
  BOOST_TEST(send->size() == 3u);
  const auto verify = last_body();
  BOOST_TEST(verify["code"].asString() == code);
  BOOST_TEST(verify.size() == 2u);
  BOOST_TEST(r.rc == PAM_MAXTRIES);  // the mock rejects it as a wrong code, three times
}

BOOST_AUTO_TEST_CASE(proxy_variables_in_the_environment_are_ignored) {
  TrapListener trap;
  const std::string proxy = "http://127.0.0.1:" + std::to_string(trap.port());
  for (const char* name : {"https_proxy", "HTTPS_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"})
    setenv(name, proxy.c_str(), 1);
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  for (const char* name : {"https_proxy", "HTTPS_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"}) unsetenv(name);
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(trap.connections() == 0);
}

BOOST_AUTO_TEST_CASE(no_tls_secrets_are_written_to_sslkeylogfile) {
  // libcurl would append TLS secrets to this file; pam_otp removes its
  // key-log callback. (In setuid hosts the variable is dropped altogether.)
  const std::string keylog = pam.dir() + "/keys.log";
  setenv("SSLKEYLOGFILE", keylog.c_str(), 1);
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  unsetenv("SSLKEYLOGFILE");
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(read_file(keylog).empty());
}

BOOST_AUTO_TEST_CASE(no_conversation_function) {
  pam.password_control = "";
  const auto r = pam.authenticate_without_conversation("alice");
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_CONV_ERR);
  BOOST_TEST(provider_requests() == 0u);
}

BOOST_AUTO_TEST_CASE(conversation_aborted_by_the_user) {
  const auto r = pam.authenticate("alice", {say("alice-password")});  // EOF at the code prompt
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_CONV_ERR);
}

BOOST_AUTO_TEST_CASE(unknown_and_unenrolled_users) {
  pam.password_control = "";
  const auto ghost = pam.authenticate("ghost", {});
  BOOST_TEST_INFO(ghost.describe());
  BOOST_TEST(ghost.rc == PAM_USER_UNKNOWN);
  const auto dave = pam.authenticate("dave", {});  // in passwd, not in the users file
  BOOST_TEST_INFO(dave.describe());
  BOOST_TEST(dave.rc == PAM_AUTH_ERR);
  BOOST_TEST(dave.errors.at(0) == "Authentication failed.");
  BOOST_TEST(dave.logged("result=unenrolled"));
  BOOST_TEST(provider_requests() == 0u);
}

BOOST_AUTO_TEST_CASE(silent_flag_suppresses_messages) {
  const auto r = pam.authenticate("alice", {say("alice-password"), wrong_code_for(kAlicePhone), code_for(kAlicePhone)},
                                  PAM_SILENT);
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.errors.empty());
  BOOST_TEST(r.prompts.size() == 3u);
}

BOOST_AUTO_TEST_CASE(module_arguments_override_the_file) {
  pam.module_args = "attempts=1 [messages={wrong_code_final=\"Nope.\"}]";
  const auto r = pam.authenticate("alice", {say("alice-password"), wrong_code_for(kAlicePhone), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_MAXTRIES);
  BOOST_TEST(r.errors.at(0) == "Nope.");
}

BOOST_AUTO_TEST_CASE(debug_from_the_file_logs_exchanges_but_no_secret) {
  pam.write_config(pam.default_config("debug = true"));
  std::string code;
  Responder remember = [&code](const std::string& prompt) {
    auto c = code_for(kAlicePhone)(prompt);
    code = c.value_or("");
    return c;
  };
  const auto r = pam.authenticate("alice", {say("alice-password"), remember});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.logged("SYSLOG(7): exchange POST 127.0.0.1"));
  BOOST_REQUIRE(code.size() == 6u);
  BOOST_TEST(!r.logged(code));
  BOOST_TEST(!r.logged("test-api-key"));
  BOOST_TEST(!r.logged(kAlicePhone));
  BOOST_TEST(!r.logged("alice-password"));
}

BOOST_AUTO_TEST_CASE(the_shipped_example_config_logs_in) {
  // conf/pam_otp.conf as shipped; only paths and the URL come from arguments.
  pam.write_config(example_config());
  pam.module_args = "users_file=" + pam.users_path() + " ca_file=" + Shared::pki().ca_cert +
                    " provider.mock.base_url=" + pam.mock_url();
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.prompts.at(1) == "Code sent to +1******4567 (Enter for a new one): ");
}

BOOST_AUTO_TEST_SUITE_END()
