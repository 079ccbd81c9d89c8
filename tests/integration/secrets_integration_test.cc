// No secret anywhere (issue #6): every flow, with debug on, is scanned —
// everything the module logged (pam_syslog through pam_wrapper, stderr) and
// the URLs of the requests the mock received — for the provider's secrets,
// the password, every code typed or delivered, and the full phone number.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <syslog.h>

#include "pam_harness.h"

using namespace otp::testing;

namespace {

const char* kPhone = "+15551234567";

struct SecretsFixture {
  PamHarness pam;
  std::vector<std::string> secrets{"alice-password", kPhone, "5551234567"};
  std::vector<std::string> typed;  // codes the user typed

  // Remembers what it answers, so that typed codes are looked for too.
  Responder remember(Responder inner) {
    return [this, inner](const std::string& prompt) {
      auto answer = inner(prompt);
      if (answer && !answer->empty()) typed.push_back(*answer);
      return answer;
    };
  }

  PamResult run(std::vector<Responder> codes, const std::string& user = "alice") {
    for (auto& c : codes) c = remember(c);
    codes.insert(codes.begin(), say(user + "-password"));
    return pam.authenticate(user, std::move(codes));
  }

  void scan(const PamResult& r) {
    std::vector<std::string> forbidden = secrets;
    for (const auto& d : Shared::mock().outbox()) forbidden.push_back(d.code);
    forbidden.insert(forbidden.end(), typed.begin(), typed.end());
    BOOST_TEST(r.logged("SYSLOG(7)"), "debug was not on");
    for (const auto& f : forbidden) {
      BOOST_TEST(!r.logged(f), "the log holds '" << f << "'");
      for (const auto& request : Shared::mock().requests())
        BOOST_TEST(request.path.find(f) == std::string::npos, "a URL holds '" << f << "': " << request.path);
    }
  }

  void use(const std::string& provider_keys, const std::string& top = "") {
    pam.write_config("users_file = \"" + pam.users_path() + "\"\nca_file = \"" + Shared::pki().ca_cert +
                     "\"\ndebug = true\n" + top + "\n[provider.corp]\nbase_url = \"" + pam.mock_url() + "\"\n" +
                     provider_keys);
  }
  void use_generic(const std::string& top = "") {
    pam.write_config(pam.default_config("debug = true\n" + top));
    secrets.push_back("test-api-key");
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(secrets_never_leak, SecretsFixture)

BOOST_AUTO_TEST_CASE(generic_provider_through_every_outcome) {
  use_generic("resend_cooldown = 0");
  scan(run({wrong_code_for(kPhone), code_for(kPhone)}));                     // wrong, then right
  Responder expire = [](const std::string& p) { Shared::mock().expire_codes(); return code_for(kPhone)(p); };
  scan(run({expire, say(""), code_for(kPhone)}));                            // expired, resent
  scan(run({say("12ab"), wrong_code_for(kPhone), wrong_code_for(kPhone)}));  // attempts exhausted
  scan(run({}));                                                             // aborted at the prompt
  auto settings = Shared::mock().settings();
  settings.max_failures = 1;
  Shared::mock().configure(settings);
  scan(run({wrong_code_for(kPhone)}));  // locked at verify
  scan(run({}));                        // locked at send
}

BOOST_AUTO_TEST_CASE(failures_of_the_service) {
  use_generic("failmode = \"safe\"\ntimeout = 2");
  otp::mock::Fault broken;
  broken.status = 500;
  Shared::mock().set_fault(broken);
  scan(run({}));  // fail open
  Shared::mock().clear_fault();
  std::string config = pam.default_config("debug = true");
  config.replace(config.find("test-api-key"), 12, "wrong-api-key");
  pam.write_config(config);
  secrets.push_back("wrong-api-key");
  scan(run({}));  // the provider rejects our key
}

BOOST_AUTO_TEST_CASE(every_preset) {
  const auto d = Shared::mock().dialects();
  const std::vector<std::pair<std::string, std::vector<std::string>>> presets = {
      {"preset = \"stytch\"\nproject_id = \"" + d.stytch.project_id + "\"\nsecret = \"" + d.stytch.secret + "\"\n",
       {d.stytch.secret}},
      {"preset = \"descope\"\nproject_id = \"" + d.descope.project_id + "\"\n", {}},
      {"preset = \"twilio_verify\"\naccount_sid = \"" + d.twilio.account_sid + "\"\nauth_token = \"" +
           d.twilio.auth_token + "\"\nservice_sid = \"" + d.twilio.service_sid + "\"\n",
       {d.twilio.auth_token}},
      {"preset = \"blockid\"\ntenant_id = \"" + d.blockid.tenant_id + "\"\ncommunity_id = \"" + d.blockid.community_id +
           "\"\nlicense_key = \"" + d.blockid.license_key + "\"\ncommunity_public_key = \"" +
           Shared::mock().community_public_key() + "\"\n",
       {d.blockid.license_key}},
  };
  for (const auto& [keys, secret] : presets) {
    use(keys);
    secrets.insert(secrets.end(), secret.begin(), secret.end());
    const auto r = run({wrong_code_for(kPhone), code_for(kPhone)});
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_SUCCESS);
    scan(r);
    Shared::mock().reset();
  }
}

BOOST_AUTO_TEST_CASE(baanx_sends_the_password_but_never_logs_it) {
  pam.write_users("alice email=alice@example.com\n");
  use("preset = \"baanx\"\nclient_key = \"" + Shared::mock().dialects().baanx.client_key + "\"\n");
  secrets.push_back(Shared::mock().dialects().baanx.client_key);
  pam.password_control = "";  // pam_otp asks for the password itself
  typed.push_back("alice-password");
  const auto r = pam.authenticate("alice", {say("alice-password"), remember(code_for(kPhone))});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  scan(r);
}

// A proxy URL whose password holds an unencoded '@' (or '/') does not parse:
// the error names the key and line, and never shows the credentials.
BOOST_AUTO_TEST_CASE(a_proxy_that_does_not_parse_keeps_its_credentials) {
  for (const std::string proxy : {"http://bob:pr0xy@pw-canary@proxy.example:3128", "bob:pr0xy@pw-canary@proxy.example:3128",
                                  "http://bob:pr0xy/pw-canary@proxy.example:3128", "http://bob:pr0xy@pw-canary@/"}) {
    BOOST_TEST_CONTEXT(proxy) {
      pam.write_config(pam.default_config("proxy = \"" + proxy + "\""));
      const auto r = pam.authenticate("alice", {say("alice-password")});
      BOOST_TEST(r.rc == PAM_SERVICE_ERR);
      BOOST_TEST(r.logged_at(LOG_ERR, "key 'proxy':"), r.log);
      BOOST_TEST(r.logged("<redacted>"), r.log);
      for (const char* part : {"pr0xy", "pw-canary"}) BOOST_TEST(!r.logged(part), r.log);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
