// Ways around the second factor found in real deployments (issue #12), each
// closed and proven through real libpam: a login that reaches pam_otp
// succeeds only with a verified code, unless an administrator's rule says
// this user or this situation needs none.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <syslog.h>

#include <cstdlib>
#include <sstream>

#include "base/json.h"
#include "example_provider.h"
#include "pam_harness.h"
#include "time_bound.h"

using namespace otp::testing;

namespace {

const char* kAlicePhone = "+15551234567";

std::size_t requests_to(const std::string& path) {
  std::size_t n = 0;
  for (const auto& r : Shared::mock().requests()) n += r.path == path ? 1 : 0;
  return n;
}

// NSS spellings of alice that are not her passwd name (nss_alias_shim.c).
struct AliasEnvironment {
  AliasEnvironment() { setenv("PAM_OTP_TEST_NSS_ALIASES", "ALICE=alice;alice@corp.example=alice", 1); }
  ~AliasEnvironment() { unsetenv("PAM_OTP_TEST_NSS_ALIASES"); }
};

struct Fixture {
  PamHarness pam;

  void config(const std::string& top) { pam.write_config(pam.default_config(top)); }
  PamResult with_authtok(const std::string& user, const std::string& authtok, std::vector<Responder> answers) {
    return pam.authenticate_with_authtok(user, authtok, std::move(answers));
  }
};

// A Responder that injects a fault into the mock, then answers.
Responder fault_then(otp::mock::Fault fault, Responder then) {
  return [fault, then](const std::string& prompt) {
    Shared::mock().set_fault(fault);
    return then(prompt);
  };
}

otp::mock::Fault on_path(const std::string& path) {
  otp::mock::Fault f;
  f.path = path;
  return f;
}

}  // namespace

// ---------------------------------------------------------------------------
// 1. Every decision and request uses the canonical passwd name.
BOOST_FIXTURE_TEST_SUITE(canonical_user, Fixture)

BOOST_AUTO_TEST_CASE(aliases_are_asked_for_the_canonical_users_code) {
  AliasEnvironment aliases;
  for (const char* unenrolled : {"allow", "deny"}) {
    for (const std::string typed : {"ALICE", "alice@corp.example"}) {
      Shared::mock().reset();
      config(std::string("unenrolled = \"") + unenrolled + "\"");
      const auto r = pam.authenticate(typed, {say("alice-password"), code_for(kAlicePhone)});
      BOOST_TEST_INFO(typed << " with unenrolled = " << unenrolled << "\n" << r.describe());
      BOOST_TEST(r.rc == PAM_SUCCESS);
      BOOST_REQUIRE(r.prompts.size() == 2u);  // the password, then alice's code
      BOOST_TEST(r.prompts[1] == "Code sent to +1******4567 (Enter for a new one): ");
      BOOST_REQUIRE(Shared::mock().outbox().size() == 1u);
      BOOST_TEST(Shared::mock().outbox()[0].to == kAlicePhone);
      const auto send = otp::json::parse(Shared::mock().requests().at(0).body);
      BOOST_REQUIRE(send.has_value());
      BOOST_TEST((*send)["user"].asString() == "alice");  // ${user} is the passwd name
      BOOST_TEST(r.logged("result=success user=alice login_name=" + typed));
    }
  }
}

BOOST_AUTO_TEST_CASE(wildcard_lines_are_expanded_with_the_canonical_name) {
  AliasEnvironment aliases;
  pam.write_users("* email=${user}@corp.example channel=email\n");
  const auto r = pam.authenticate("ALICE", {say("alice-password"), code_for("alice@corp.example")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_REQUIRE(Shared::mock().outbox().size() == 1u);
  BOOST_TEST(Shared::mock().outbox()[0].to == "alice@corp.example");
}

BOOST_AUTO_TEST_CASE(the_same_name_as_typed_logs_one_name) {
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.logged("result=success user=alice rhost="));
  BOOST_TEST(!r.logged("login_name="));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// 2. failmode = "safe" applies only before the first code was sent; a TLS
// verification failure is never fail-open.
BOOST_FIXTURE_TEST_SUITE(failmode_after_send, Fixture)

BOOST_AUTO_TEST_CASE(server_error_at_verify_after_a_wrong_code) {
  config("failmode = \"safe\"");
  auto fault = on_path("/v1/otp/verify");
  fault.status = 503;
  const auto r = pam.authenticate("alice", {say("alice-password"), wrong_code_for(kAlicePhone),
                                            fault_then(fault, code_for(kAlicePhone))});
  Shared::mock().clear_fault();
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
  BOOST_TEST(r.logged("result=unavailable"));
  BOOST_TEST(!r.logged("result=failopen"));
  BOOST_TEST(r.errors.back() == "The code service is unavailable.");
}

BOOST_AUTO_TEST_CASE(timeout_at_verify) {
  config("failmode = \"safe\"\ntimeout = " + std::to_string(short_timeout()) +
         "\nconnect_timeout = " + std::to_string(short_connect_timeout()));
  auto fault = on_path("/v1/otp/verify");
  fault.hang = true;
  const auto r = pam.authenticate("alice", {say("alice-password"), fault_then(fault, code_for(kAlicePhone))});
  Shared::mock().clear_fault();
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
  BOOST_TEST(r.logged("timeout"));
  BOOST_TEST(!r.logged("result=failopen"));
}

BOOST_AUTO_TEST_CASE(unknown_answer_at_resend) {
  config("failmode = \"safe\"\nresend_cooldown = 0");
  auto fault = on_path("/v1/otp/send");
  fault.status = 418;  // no rule of the provider knows it
  const auto r = pam.authenticate("alice", {say("alice-password"), fault_then(fault, say(""))});
  Shared::mock().clear_fault();
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
  BOOST_TEST(requests_to("/v1/otp/send") == 2u);
  BOOST_TEST(r.logged("matched no rule"));
  BOOST_TEST(!r.logged("result=failopen"));
}

// (Before any send, failmode = "safe" still lets the login through:
// login/provider_down_failmode_safe_lets_the_login_through.)

// Certificates an on-path attacker would present: refused under both
// failmodes, PAM_AUTHINFO_UNAVAIL and a LOG_ERR line that says why.
BOOST_AUTO_TEST_CASE(tls_verification_failures_never_fail_open) {
  const auto& pki = Shared::pki();
  struct Case {
    const char* name;
    std::string cert, key, extra;
  };
  const std::vector<Case> cases = {
      {"untrusted CA", pki.untrusted_cert, pki.untrusted_key, ""},
      {"expired certificate", pki.expired_cert, pki.expired_key, ""},
      {"host name mismatch", pki.wrong_host_cert, pki.wrong_host_key, ""},
      {"pin mismatch", pki.server_cert, pki.server_key,
       "pinned_public_key = \"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""},
  };
  for (const auto& c : cases) {
    otp::mock::MockOptions options{c.cert, c.key};
    options.threads = 4;
    otp::mock::MockProvider attacker(options);
    attacker.start();
    for (const char* failmode : {"safe", "secure"}) {
      pam.write_config("users_file = \"" + pam.users_path() + "\"\nca_file = \"" + pki.ca_cert +
                       "\"\nfailmode = \"" + failmode + "\"\n" + c.extra + "\n" +
                       mock_provider_toml("\"" + attacker.base_url() + "\""));
      const auto r = pam.authenticate("alice", {say("alice-password")});
      BOOST_TEST_INFO(c.name << ", failmode " << failmode << "\n" << r.describe());
      BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
      BOOST_TEST(r.prompts.size() == 1u);  // the password only
      BOOST_TEST(r.logged_at(LOG_ERR, "result=untrusted_provider"));
      BOOST_TEST(r.logged("TLS verification"));
      BOOST_TEST(!r.logged("result=failopen"));
    }
    attacker.stop();
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// 3. "No code needed" from the provider is "not enrolled at the provider".
BOOST_FIXTURE_TEST_SUITE(no_code_needed, Fixture)

void use_preset(Fixture& f, const std::string& keys, const std::string& top) {
  f.pam.write_config("users_file = \"" + f.pam.users_path() + "\"\nca_file = \"" + Shared::pki().ca_cert + "\"\n" +
                     top + "\n[provider.corp]\nbase_url = \"" + f.pam.mock_url() + "\"\n" + keys + "\n");
}

void expect(const PamResult& r, const char* unenrolled) {
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.prompts.size() <= 1u);  // never a code prompt
  BOOST_TEST(r.logged("the provider asked for no code"));
  BOOST_TEST(!r.logged("result=success"));
  if (std::string(unenrolled) == "allow") {
    BOOST_TEST(r.logged("result=unenrolled"));
  } else {
    BOOST_TEST(r.rc == PAM_AUTH_ERR);
  }
}

BOOST_AUTO_TEST_CASE(privacyidea_pass_on_no_user) {
  otp::mock::Dialects d;
  d.privacyidea.pass_on_no_user = true;
  Shared::mock().configure_dialects(d);
  pam.write_users("dave\n");  // listed here, unknown to privacyIDEA
  for (const char* unenrolled : {"allow", "deny"}) {
    use_preset(*this, "preset = \"privacyidea\"", std::string("unenrolled = \"") + unenrolled + "\"");
    // pam_otp alone: PAM_IGNORE then leaves nothing that says yes.
    pam.password_control = "";
    const auto alone = pam.authenticate("dave", {});
    expect(alone, unenrolled);
    BOOST_TEST(alone.rc != PAM_SUCCESS);
    // After the password: allow lets the password decide.
    pam.password_control = "requisite";
    const auto stacked = pam.authenticate("dave", {say("dave-password")});
    expect(stacked, unenrolled);
    BOOST_TEST(stacked.rc == (std::string(unenrolled) == "allow" ? PAM_SUCCESS : PAM_AUTH_ERR));
  }
}

BOOST_AUTO_TEST_CASE(baanx_otp_not_required) {
  otp::mock::Dialects d;
  d.baanx.users["olive@example.com"].password = "alice-password";
  Shared::mock().configure_dialects(d);
  pam.write_users("alice email=olive@example.com\n");
  for (const char* unenrolled : {"allow", "deny"}) {
    use_preset(*this, "preset = \"baanx\"\nclient_key = \"" + d.baanx.client_key + "\"",
               std::string("unenrolled = \"") + unenrolled + "\"");
    // pam_set_items stands for the password module that succeeded.
    const auto r = with_authtok("alice", "alice-password", {});
    expect(r, unenrolled);
    BOOST_TEST(r.rc == (std::string(unenrolled) == "allow" ? PAM_SUCCESS : PAM_AUTH_ERR));
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// 4. The password, answered at the code prompt (sshd's password method and
// other single-password front ends do), never reaches the provider.
BOOST_FIXTURE_TEST_SUITE(password_as_code, Fixture)

BOOST_AUTO_TEST_CASE(a_numeric_password_is_never_posted_as_a_code) {
  const auto r = with_authtok("alice", "246810", {say("246810"), say("246810"), say("246810")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.prompts.size() == 1u);  // ended at the first such answer
  BOOST_TEST(requests_to("/v1/otp/verify") == 0u);
  BOOST_TEST(r.logged_at(LOG_ERR, "result=password_as_code"));
  BOOST_TEST(r.logged("KbdInteractiveAuthentication yes"));
  BOOST_TEST(!r.logged("246810"));
}

BOOST_AUTO_TEST_CASE(a_password_that_is_no_code_ends_the_login_too) {
  const auto r = with_authtok("alice", "alice-password", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(requests_to("/v1/otp/verify") == 0u);
  BOOST_TEST(r.logged("result=password_as_code"));
}

BOOST_AUTO_TEST_CASE(the_channel_menu_answered_with_the_password) {
  config("channel = \"ask\"");
  pam.write_users("alice phone=+15551234567 email=alice@example.com\n");
  const auto r = with_authtok("alice", "1", {say("1"), say("1")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(Shared::mock().requests().empty());
  BOOST_TEST(r.logged("result=password_as_code"));
}

BOOST_AUTO_TEST_CASE(a_code_that_differs_from_the_password_is_checked) {
  const auto r = with_authtok("alice", "246810", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// 5. OpenSSH's failed-password marker, at every length it takes.
BOOST_FIXTURE_TEST_SUITE(incorrect_marker, Fixture)

BOOST_AUTO_TEST_CASE(any_length_of_the_repeated_marker_sends_nothing) {
  const std::string junk = "\b\n\r\177INCORRECT";
  for (std::size_t length : {1u, 5u, 13u, 20u, 40u}) {
    std::string marker;
    for (std::size_t i = 0; i < length; ++i) marker += junk[i % junk.size()];
    Shared::mock().reset();
    const auto r = with_authtok("alice", marker, {code_for(kAlicePhone)});
    BOOST_TEST_INFO("length " << length << "\n" << r.describe());
    BOOST_TEST(r.rc == PAM_AUTH_ERR);
    BOOST_TEST(r.logged("result=earlier_module_failed"));
    BOOST_TEST(Shared::mock().requests().empty());
  }
}

// sshd puts the marker in place of every keyboard-interactive answer of
// root when PermitRootLogin is not yes (auth-pam.c, sshpam_respond): such an
// answer ends the login at once, nothing verified and no second prompt.
BOOST_AUTO_TEST_CASE(an_answer_sshd_faked_ends_the_login_at_once) {
  const std::string junk = "\b\n\r\177INCORRECT";
  for (std::size_t length : {1u, 6u, 13u, 20u}) {
    std::string faked;
    for (std::size_t i = 0; i < length; ++i) faked += junk[i % junk.size()];
    Shared::mock().reset();
    const auto r = pam.authenticate("alice", {say("alice-password"), say(faked), code_for(kAlicePhone)});
    BOOST_TEST_INFO("length " << length << "\n" << r.describe());
    BOOST_TEST(r.rc == PAM_AUTH_ERR);
    BOOST_TEST(r.prompts.size() == 2u);  // the password, one code prompt
    BOOST_TEST(r.logged("result=sshd_faked_answer"));
    BOOST_TEST(r.logged("PermitRootLogin"));
    BOOST_TEST(Shared::mock().requests().size() == 1u);  // the send; nothing verified
  }
}

// At the channel menu it ends the login before anything is sent.
BOOST_AUTO_TEST_CASE(a_faked_answer_at_the_menu_sends_nothing) {
  pam.write_users("alice phone=+15551234567 email=alice@example.com channel=ask\n");
  const auto r = pam.authenticate("alice", {say("alice-password"), say("\b\n"), code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.logged("result=sshd_faked_answer"));
  BOOST_TEST(Shared::mock().requests().empty());
}

BOOST_AUTO_TEST_CASE(a_password_that_only_starts_like_the_marker_is_a_password) {
  const auto r = with_authtok("alice", "\b\n\r\177INCORRECTx", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// 6. require_ssh_methods: public key + code means a public key was checked.
BOOST_FIXTURE_TEST_SUITE(ssh_methods, Fixture)

BOOST_AUTO_TEST_CASE(without_the_listed_methods_nobody_gets_in) {
  // The public-key recipe: pam_otp alone, then pam_permit.
  pam.password_control = "";
  pam.lines_after_otp = "auth required " PAM_OTP_MULTIARCH_LIBDIR "/security/pam_permit.so\n";
  pam.module_args = "require_ssh_methods=[\"publickey\"]";
  pam.service = "sshd";
  for (const std::string info : {"", "keyboard-interactive/pam\n", "password\n"}) {
    pam.pam_env = {"SSH_AUTH_INFO_0=" + info};
    for (const std::string scope : {"", "exempt_services = [\"sshd\"]"}) {
      config(scope);
      const auto r = pam.authenticate("alice", {code_for(kAlicePhone)});
      BOOST_TEST_INFO("SSH_AUTH_INFO_0=[" << info << "] " << scope << "\n" << r.describe());
      BOOST_TEST(r.rc == PAM_AUTH_ERR);
      BOOST_TEST(Shared::mock().requests().empty());
      BOOST_TEST(r.logged_at(LOG_ERR, "result=ssh_methods_missing"));
      BOOST_TEST(r.logged("AuthenticationMethods"));
    }
  }
  pam.pam_env = {};  // no SSH_AUTH_INFO_0 at all (ExposeAuthInfo off, or not sshd)
  config("");
  const auto r = pam.authenticate("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.logged("result=ssh_methods_missing"));
}

BOOST_AUTO_TEST_CASE(after_a_public_key_the_code_is_asked) {
  pam.password_control = "";
  pam.lines_after_otp = "auth required " PAM_OTP_MULTIARCH_LIBDIR "/security/pam_permit.so\n";
  pam.module_args = "require_ssh_methods=[\"publickey\"]";
  pam.service = "sshd";
  pam.pam_env = {"SSH_AUTH_INFO_0=publickey ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyForTheTest\n"};
  const auto r = pam.authenticate("alice", {code_for(kAlicePhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(Shared::mock().outbox().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
