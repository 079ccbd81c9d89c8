// Destinations from a real slapd: through the directory's plugin as the
// module loads it (pam_otp/directory.so beside pam_otp.so), and logins
// through real libpam whose destinations come from it, with every way the
// directory can fail (docs/design.md, "Destinations from the directory").
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "child_process.h"
#include "directory/plugin.h"
#include "pam_harness.h"
#include "slapd_server.h"
#include "time_bound.h"

namespace {

using otp::directory::Answer;
using otp::directory::Clock;
using otp::directory::FilterTemplate;
using otp::directory::LookupOptions;

otp::testing::SlapdServer& slapd() {
  static otp::testing::SlapdServer s;
  static const bool loaded = [] {
    s.add("dn: uid=carol,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: carol\ncn: Carol\nsn: C\n"
          "mobile: (202) 555-0143\nmail: carol@example.com\n\n"
          // For the logins: alice with two numbers as people type them and
          // a mail; bob with an office number abroad and a mail; dave with
          // a value that is no number only; two entries for "twin"... named
          // after a passwd account: dave's twin is load0.
          "dn: uid=alice,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice\nsn: A\n"
          "mobile: +1 (202) 555-0143\nmobile: 202-456-1111\nmail: alice@example.com\n\n"
          "dn: uid=bob,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: bob\ncn: Bob\nsn: B\n"
          "telephoneNumber: 011 44 20 7946 0958\nmail: bob@example.com\n\n"
          "dn: uid=dave,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: dave\ncn: Dave\nsn: D\n"
          "mobile: call me on my desk phone\n\n"
          "dn: ou=a,dc=example,dc=com\nobjectClass: organizationalUnit\nou: a\n\n"
          "dn: ou=b,dc=example,dc=com\nobjectClass: organizationalUnit\nou: b\n\n"
          "dn: uid=load0,ou=a,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: load0\ncn: L\nsn: L\n"
          "mobile: +1 202 555 0100\n\n"
          "dn: uid=load0,ou=b,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: load0\ncn: L\nsn: L\n"
          "mobile: +1 202 555 0101\n");
    return true;
  }();
  (void)loaded;
  return s;
}

std::string plugin_path() {
  const std::string module = PAM_OTP_MODULE_PATH;
  return module.substr(0, module.rfind('/')) + "/pam_otp/directory.so";
}

LookupOptions options() {
  LookupOptions o{{}, *FilterTemplate::parse("(uid=${user})", nullptr), {{"sms", "mobile", false}, {"email", "mail", true}}, "US"};
  o.ldap.uris = {slapd().ldaps_uri()};
  o.ldap.ca_file = slapd().ca_file();
  o.ldap.base = otp::testing::SlapdServer::kBase;
  o.ldap.bind_dn = otp::testing::SlapdServer::kAdmin;
  o.ldap.bind_password = otp::Secret(slapd().admin_password());
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(directory_plugin)

BOOST_AUTO_TEST_CASE(the_plugin_finds_a_users_destinations) {
  const Answer a = otp::directory::plugin_lookup(plugin_path(), options(), "carol", Clock::now() + std::chrono::seconds(5));
  BOOST_TEST(a.entry);
  BOOST_REQUIRE(a.destinations.size() == 2u);
  BOOST_TEST(a.destinations[0].address == "+12025550143");
  BOOST_TEST(a.destinations[1].address == "carol@example.com");
  BOOST_TEST(!otp::directory::plugin_problem(plugin_path(), PAM_OTP_DIRECTORY_PLUGIN_SYMBOL).has_value());
}

// The directory's words cross the plugin as Unavailable, with its reasons.
BOOST_AUTO_TEST_CASE(an_unavailable_directory_crosses_the_plugin_as_unavailable) {
  LookupOptions o = options();
  o.ldap.bind_password = otp::Secret("wrong");
  bool unavailable = false;
  try {
    otp::directory::plugin_lookup(plugin_path(), o, "carol", Clock::now() + std::chrono::seconds(5));
  } catch (const otp::directory::Unavailable& e) {
    unavailable = std::string(e.what()).find("Invalid credentials") != std::string::npos &&
                  e.failure() == otp::directory::Failure::Refused;
    BOOST_TEST_MESSAGE(e.what());
  }
  BOOST_TEST(unavailable);
  const auto problem = otp::directory::plugin_problem(plugin_path() + ".missing", PAM_OTP_DIRECTORY_PLUGIN_SYMBOL);
  BOOST_REQUIRE(problem.has_value());
  BOOST_TEST(problem->find("directory's plugin") != std::string::npos, *problem);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

using otp::testing::PamHarness;
using otp::testing::PamResult;
using otp::testing::Shared;
using otp::testing::code_for;
using otp::testing::say;

// A PAM stack whose destinations come from `server` ([directory] first in
// the config's own words, as an administrator would write it).
struct DirectoryLogin {
  PamHarness pam;
  std::string password = pam.dir() + "/ldap-password";

  DirectoryLogin() {
    pam.write_users("");
    configure();
  }

  // `top`: top-level keys; `table`: more [directory] keys.
  void configure(const std::string& top = "", const std::string& table = "",
                 const otp::testing::SlapdServer& server = slapd(), const std::string& uri = "") {
    std::ofstream(password) << server.admin_password() << "\n";
    ::chmod(password.c_str(), 0600);
    pam.write_config(pam.default_config(top + "\n[directory]\nuri = \"" + (uri.empty() ? server.ldaps_uri() : uri) +
                                        "\"\nca_file = \"" + server.ca_file() + "\"\nbind_dn = \"" +
                                        otp::testing::SlapdServer::kAdmin + "\"\nbind_password_file = \"" + password +
                                        "\"\nbase = \"" + otp::testing::SlapdServer::kBase +
                                        "\"\nfilter = \"(&(objectClass=inetOrgPerson)(uid=${user}))\"\n"
                                        "default_region = \"US\"\ntimeout = " + std::to_string(timeout()) + "\n" + table +
                                        "\n[directory.attributes]\nsms = \"mobile\"\nvoice = \"telephoneNumber\"\n"
                                        "email = \"mail\"\n"));
  }
  // The directory's timeout: 1 s, or the provider's short timeout in a slow
  // build (valgrind: a TLS handshake there takes seconds).
  static int timeout() { return otp::testing::slowdown() > 1 ? otp::testing::short_timeout() : 1; }
  PamResult login(const std::string& user, std::vector<otp::testing::Responder> answers) {
    return pam.authenticate(user, std::move(answers));
  }
  static std::size_t sent() { return Shared::mock().outbox().size(); }
};

// A server that is stopped, and one whose certificate names another host.
struct BrokenServers {
  otp::testing::SlapdServer gone, wrong_host{otp::testing::SlapdOptions{true}};
  BrokenServers() { gone.stop(); }
};

std::string password_of(const std::string& user) {
  for (const auto& name : otp::testing::injection_names())
    if (name == user) return "injection-password";
  return user.rfind("load", 0) == 0 ? "load-password" : user + "-password";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(directory_login, DirectoryLogin)

// Each attribute gives its channel; numbers as people type them reach the
// provider in E.164; several values are the menu.
BOOST_AUTO_TEST_CASE(destinations_come_from_each_attribute_and_several_are_a_menu) {
  configure("channel = \"ask\"");
  auto r = login("alice", {say("alice-password"), say("2"), code_for("+12024561111")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_REQUIRE(r.prompts.size() >= 2u);
  BOOST_TEST(r.prompts[1].find("1) ") != std::string::npos);
  BOOST_TEST(r.prompts[1].find("3) ") != std::string::npos);  // two numbers and a mail
  BOOST_TEST(r.prompts[1].find("4) ") == std::string::npos);
  BOOST_REQUIRE(sent() == 1u);
  BOOST_TEST(Shared::mock().outbox()[0].to == "+12024561111");
  BOOST_TEST(Shared::mock().outbox()[0].channel == "sms");
  BOOST_TEST(r.logged("source=\"directory uid=alice,dc=example,dc=com\""));
  BOOST_TEST(r.logged("directory_ms="));
  // bob: voice from telephoneNumber (011 is the way out of the US), email from mail.
  r = login("bob", {say("bob-password"), say("1"), code_for("+442079460958")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(Shared::mock().outbox().back().channel == "voice");
  r = login("bob", {say("bob-password"), say("2"), code_for("bob@example.com")});
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(Shared::mock().outbox().back().channel == "email");
}

// With the configured channel only its attribute counts: alice's two
// numbers, "+1 (202) 555-0143" sent as +12025550143.
BOOST_AUTO_TEST_CASE(numbers_are_normalised_and_the_channel_chooses_the_attribute) {
  const auto r = login("alice", {say("alice-password"), say("1"), code_for("+12025550143")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.prompts[1].find("3) ") == std::string::npos);
  BOOST_TEST(Shared::mock().outbox().at(0).to == "+12025550143");
}

// A line of the users file overrides the directory (the default order);
// destinations = ["directory", "users_file"] turns that round.
BOOST_AUTO_TEST_CASE(the_users_file_overrides_the_directory) {
  pam.write_users("alice phone=+15551234567\n");
  auto r = login("alice", {say("alice-password"), code_for("+15551234567")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.logged("source=\"users_file line 1\""));
  BOOST_TEST(!r.logged("directory_ms="));  // not asked
  configure("destinations = [\"directory\", \"users_file\"]");
  r = login("alice", {say("alice-password"), say("1"), code_for("+12025550143")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(Shared::mock().outbox().back().to == "+12025550143");
}

// Names that would widen the filter find nothing: unenrolled, and nothing
// goes to alice's phone.
BOOST_AUTO_TEST_CASE(names_that_try_to_widen_the_filter_find_nothing) {
  for (const auto& name : otp::testing::injection_names()) {
    const auto r = login(name, {say(password_of(name))});
    BOOST_TEST_INFO(name << "\n" << r.describe());
    BOOST_TEST(r.rc == PAM_AUTH_ERR);
    BOOST_TEST(r.logged("result=unenrolled"));
    BOOST_TEST(r.logged("no entry in the directory"));
    BOOST_TEST(sent() == 0u);
  }
}

// An entry whose only value is no number: unenrolled (the directory said
// so), its value named by attribute and place, never shown.
BOOST_AUTO_TEST_CASE(an_entry_without_a_usable_value_is_unenrolled) {
  auto r = login("dave", {say("dave-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTH_ERR);
  BOOST_TEST(r.logged("result=unenrolled"));
  BOOST_TEST(r.logged("mobile value 1 has more than digits"));
  BOOST_TEST(r.logged("; left out (never sent to the provider)"));
  BOOST_TEST(!r.logged("desk phone"));
  configure("unenrolled = \"allow\"");
  r = login("dave", {say("dave-password")});
  // pam_otp's PAM_IGNORE, the one unenrolled allows: the stack's result is the password module's.
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.logged("result=unenrolled user=dave"));
  BOOST_TEST(r.logged("unenrolled=allow"));
  BOOST_TEST(sent() == 0u);
}

// Every way the directory can fail is an outage: with the default
// failmode, PAM_AUTHINFO_UNAVAIL and nothing sent; never unenrolled, even
// with unenrolled = "allow".
BOOST_AUTO_TEST_CASE(a_directory_that_cannot_answer_is_an_outage) {
  BrokenServers broken;
  const auto& [gone, wrong_host] = broken;
  const auto expect_outage = [&](const std::string& what, const std::string& user, const std::string& words) {
    const auto r = login(user, {say(password_of(user))});
    BOOST_TEST_INFO(what << "\n" << r.describe());
    BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
    BOOST_TEST(r.logged(words));
    BOOST_TEST(!r.logged("result=unenrolled"));
    BOOST_TEST(sent() == 0u);
    return r;
  };
  configure("unenrolled = \"allow\"", "", gone);
  expect_outage("stopped", "alice", "Can't contact LDAP server");
  configure("unenrolled = \"allow\"", "", wrong_host);
  expect_outage("a certificate for another host", "alice", "result=untrusted_provider");
  configure("unenrolled = \"allow\"");
  std::ofstream(password) << "wrong\n";
  expect_outage("a wrong bind password", "alice", "Invalid credentials");
  configure("unenrolled = \"allow\"");
  expect_outage("two entries for one name", "load0", "more than one entry");
  slapd().freeze();
  const auto r = expect_outage("accepting and saying nothing", "alice", "the directory:");
  slapd().thaw();
  // The directory's timeout bounds it.
  BOOST_TEST(r.elapsed.count() < otp::testing::within(std::chrono::seconds(timeout())).count());
}

// failmode = "safe" lets a login through when the directory is down, as
// for a provider that is down; never when TLS did not come up verified or
// a name finds two entries.
BOOST_AUTO_TEST_CASE(failmode_safe_never_opens_on_unverified_tls_or_two_entries) {
  BrokenServers broken;
  const auto& [gone, wrong_host] = broken;
  configure("failmode = \"safe\"", "", gone);
  auto r = login("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);  // pam_otp's PAM_IGNORE: the password module's result
  BOOST_TEST(r.logged("result=failopen"));
  configure("failmode = \"safe\"", "", wrong_host);
  r = login("alice", {say("alice-password")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
  configure("failmode = \"safe\"");
  r = login("load0", {say(password_of("load0"))});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
  BOOST_TEST(sent() == 0u);
}

// StartTLS on ldap:// works like ldaps://.
BOOST_AUTO_TEST_CASE(starttls_finds_the_same_destinations) {
  configure("", "", slapd(), slapd().ldap_uri());
  const auto r = login("alice", {say("alice-password"), say("1"), code_for("+12025550143")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

struct DirectoryCli : DirectoryLogin {
  otp::testing::CommandResult run(const std::string& args, const std::vector<std::string>& env = {},
                                  const std::string& input = "") const {
    const auto r = otp::testing::run_pam_otp(args + " --config " + pam.config_path(), {}, input, env);
    BOOST_TEST_MESSAGE("$ pam-otp " << args << "\n" << r.output);
    return r;
  }
  static bool has(const otp::testing::CommandResult& r, const std::string& text) {
    return r.output.find(text) != std::string::npos;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(directory_cli, DirectoryCli)

// pam-otp show USER: the source, and each destination as the provider
// gets it with the attribute and value it came from.
BOOST_AUTO_TEST_CASE(show_names_the_source_of_each_destination) {
  auto r = run("show alice");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(has(r, "source:   directory uid=alice,dc=example,dc=com (the directory answered in "));
  BOOST_TEST(has(r, "sms:      +12025550143 (mobile value 1)\nsms:      +12024561111 (mobile value 2)\n"
                    "email:    alice@example.com (mail value 1)\n"));
  r = run("show dave");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r, "the directory's entry uid=dave,dc=example,dc=com has no usable destination"));
  BOOST_TEST(has(r, "left out: mobile value 1 has more than digits"));
  pam.write_users("alice phone=+15551234567\n");
  r = run("show alice");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(has(r, "source:   users_file " + pam.users_path() + " line 1\nphone:    +15551234567\n"));
  r = run("show load0");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r, "more than one entry"));
  BOOST_TEST(has(r, "an outage"));
}

// pam-otp test USER: the whole login, its result line naming the source.
BOOST_AUTO_TEST_CASE(test_names_the_source) {
  Shared::mock().set_next_code("246810");
  const auto r = run("test alice --arg state_file=" + pam.state_path(), {}, "2\n246810\n");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(has(r, "source=\"directory uid=alice,dc=example,dc=com\""));
  BOOST_TEST(has(r, "result: PAM_SUCCESS"));
  BOOST_TEST(Shared::mock().outbox().at(0).to == "+12024561111");
}

BOOST_AUTO_TEST_CASE(test_explain_names_the_source) {
  const auto r = run("test alice --explain");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(has(r, "directory uid=alice,dc=example,dc=com: sms +1******0143 (mobile value 1), sms +1******1111 "
                    "(mobile value 2), email a***@example.com (mail value 1)"));
}

// pam-otp check binds and runs a test search; a refused bind is an error.
BOOST_AUTO_TEST_CASE(check_binds_and_searches) {
  auto r = run("check --sshd-config /nonexistent --pam-dir /nonexistent");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(has(r, "TLS verified, bound as cn=admin,dc=example,dc=com, a test search under dc=example,dc=com "
                    "answered no entry in "));
  std::ofstream(password) << "wrong\n";
  r = run("check --sshd-config /nonexistent --pam-dir /nonexistent");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r, "bind: Invalid credentials"));
  BOOST_TEST(has(r, "every login the directory would decide is an outage"));
}

// A server name that DNS never resolves (a blackholed resolver, in
// namespaces of the test's own): libldap's getaddrinfo has no timeout, and
// its first use resolves the host's own name too; the lookup still ends
// within the directory's timeout, an outage.
BOOST_AUTO_TEST_CASE(a_name_that_never_resolves_costs_the_timeout) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: the blackholed-DNS case needs root for its namespaces (CI runs as root)");
    return;
  }
  configure("", "", slapd(), "ldaps://ldap.blackhole.test");
  const std::string out = pam.dir() + "/blackhole.out";
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = otp::testing::spawn_process({PAM_OTP_BLACKHOLE_DNS_PATH, "2", "corp.test", "--", PAM_OTP_CLI_PATH,
                                                 "show", "alice", "--config", pam.config_path()},
                                                otp::testing::nss_only_environment(), "", out);
  BOOST_REQUIRE(pid > 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  std::ifstream in(out);
  const std::string output((std::istreambuf_iterator<char>(in)), {});
  if (WIFEXITED(status) && WEXITSTATUS(status) == 125) {
    BOOST_TEST_MESSAGE("skipped: cannot make the namespaces here: " << output);
    return;
  }
  BOOST_TEST_MESSAGE(output);
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 1));
  BOOST_TEST(output.find("an outage") != std::string::npos);
  BOOST_TEST(elapsed < otp::testing::within(std::chrono::seconds(timeout())));
}

// libldap reads LDAP* variables (and ~/.ldaprc) in root's own programs: a
// server signed by another CA stays untrusted whatever they say, as every
// option that matters is set on the connection itself. (Under su and sudo
// libldap reads none of them: euid != uid.)
BOOST_AUTO_TEST_CASE(ldap_variables_cannot_weaken_tls) {
  otp::testing::SlapdServer other;  // its own CA, not the configured one
  configure("", "", other);
  const std::string cas = pam.dir() + "/cas";
  std::filesystem::create_directory(cas);
  std::filesystem::copy_file(other.ca_file(), cas + "/other.pem");
  // (the configured CA is slapd()'s, which did not sign `other`)
  const std::string config_text = [&] {
    std::ifstream in(pam.config_path());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  std::string text = config_text;
  text.replace(text.find(other.ca_file()), other.ca_file().size(), slapd().ca_file());
  pam.write_config(text);
  const std::vector<std::string> env = {"LDAPTLS_REQCERT=never", "LDAPTLS_CACERTDIR=" + cas,
                                        "LDAPTLS_CACERT=" + other.ca_file()};
  const auto r = run("show alice", env);
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r, "an outage"));
}

BOOST_AUTO_TEST_SUITE_END()
