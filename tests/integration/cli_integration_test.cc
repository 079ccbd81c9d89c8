// The pam-otp command, run as a program: its output and exit status on good
// and broken configurations, `show`'s redaction, and `test` logging in
// against the mock provider with the code typed on stdin.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <regex>
#include <utility>

#include "base/text.h"
#include "child_process.h"
#include "example_provider.h"
#include "pam_harness.h"
#include "state_service_process.h"

using namespace otp::testing;

namespace {

struct CliResult {
  int status = -1;
  std::string output;  // stdout and stderr
  bool has(const std::string& text) const { return output.find(text) != std::string::npos; }
};

struct CliFixture {
  PamHarness pam;  // its config and users file, the shared mock

  // Spawns pam-otp with ARGS (split on spaces), INPUT on stdin, and the
  // environment of this process minus pam_wrapper: the command uses no PAM;
  // only nss_wrapper (for the test users) is preloaded.
  CliResult run(const std::string& args, const std::string& input = "") const {
    std::vector<std::string> more;
    if (args.find("--config") != std::string::npos)
      for (const auto& arg : pam.slow_build_arguments()) more.insert(more.end(), {"--arg", arg});
    const CommandResult done = run_pam_otp(args, more, input);
    CliResult r{done.status, done.output};
    BOOST_TEST_MESSAGE("$ pam-otp " << args << "\n" << r.output);
    return r;
  }
  static int wait_for(pid_t pid) {
    BOOST_REQUIRE(pid > 0);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // The local state in the test's directory, never /var/lib.
  std::string config_arg() const { return "--config " + pam.config_path() + " --arg state_file=" + pam.state_path(); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cli, CliFixture)

BOOST_AUTO_TEST_CASE(version_help_and_usage_errors) {
  const auto version = run("--version");
  BOOST_TEST(version.status == 0);
  BOOST_TEST(version.output == "pam-otp " PAM_OTP_VERSION "\n");
  const auto help = run("--help");
  BOOST_TEST(help.status == 0);
  BOOST_TEST(help.has("check [--config PATH]"));
  BOOST_TEST(help.has("Exit status: 0 success, 1 problems found or login failed, 2 usage error."));
  for (const char* sub : {"check --help", "show --help", "test --help"}) {
    const auto r = run(sub);
    BOOST_TEST(r.status == 0, sub);
    BOOST_TEST(r.has("Usage: pam-otp"), sub);
  }
  BOOST_TEST(run("").status == 2);
  BOOST_TEST(run("frobnicate").status == 2);
  BOOST_TEST(run("check --bogus").status == 2);
  BOOST_TEST(run("test").status == 2);  // which user?
  BOOST_TEST(run("test alice --channel pigeon").status == 2);
}

BOOST_AUTO_TEST_CASE(check_a_good_configuration) {
  const auto r = run("check " + config_arg());
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.has("pam-otp check: " + pam.config_path() + ": OK (provider mock, 3 users listed)"));
}

BOOST_AUTO_TEST_CASE(check_lists_every_problem_with_file_and_line) {
  pam.write_config(pam.default_config("atempts = 3\ntimeout = \"ten\"\nexempt_networks = [\"10.0.0.0/40\"]"));
  pam.write_users("alice phone=5551234567\nbob email=bob@example.com channel=email\n");
  const auto r = run("check " + config_arg());
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.has(pam.config_path() + ":3: key 'atempts': unknown key"));
  BOOST_TEST(r.has(pam.config_path() + ":4: key 'timeout': must be an integer, not string"));
  BOOST_TEST(r.has(pam.config_path() + ":5: key 'exempt_networks': '10.0.0.0/40' is not an IPv4 or IPv6 network"));
  BOOST_TEST(r.has(pam.users_path() + ":1: key 'phone': '5551234567' is not an E.164 number"));
  BOOST_TEST(r.has(": 4 errors"));
}

BOOST_AUTO_TEST_CASE(check_syntax_errors_modes_and_presets) {
  pam.write_config(pam.default_config("failmode = safe"));
  const auto syntax = run("check " + config_arg());
  BOOST_TEST(syntax.status == 1);
  BOOST_TEST(syntax.has(pam.config_path() + ":3: TOML syntax error"));

  pam.write_config(pam.default_config(), 0644);
  const auto mode = run("check " + config_arg());
  BOOST_TEST(mode.status == 1);
  BOOST_TEST(mode.has(pam.config_path() + ": holds secrets and is readable by others; run: chmod o-r"));

  pam.write_config("users_file = \"" + pam.users_path() + "\"\n[provider.corp]\npreset = \"twilio_verify\"\naccount_sid = \"AC1\"\n");
  const auto preset = run("check --offline " + config_arg());
  BOOST_TEST(preset.status == 1);
  BOOST_TEST(preset.has(pam.config_path() + ":2: key 'provider.corp.auth_token': is required by preset 'twilio_verify'"));
  BOOST_TEST(preset.has(pam.config_path() + ":2: key 'provider.corp.service_sid': is required by preset 'twilio_verify'"));
}

// A proxy URL that does not parse (an unencoded '@' in its password): check
// names the line, never the credentials; show neither.
BOOST_AUTO_TEST_CASE(check_and_show_never_print_proxy_credentials) {
  pam.write_config(pam.default_config("proxy = \"http://bob:pr0xy@pw-canary@proxy.example:3128\""));
  const auto check = run("check --offline " + config_arg());
  BOOST_TEST(check.status == 1);
  BOOST_TEST(check.has(pam.config_path() + ":3: key 'proxy': 'http://<redacted>@proxy.example:3128' is not a proxy URL"));
  pam.write_config(pam.default_config("proxy = \"http://bob:pr0xy%40pw-canary@proxy.example:3128\""));
  const auto show = run("show " + config_arg());
  BOOST_TEST(show.has("proxy = 'http://<redacted>@proxy.example:3128'"));
  for (const auto* output : {&check, &show})
    for (const char* part : {"pr0xy", "pw-canary"}) BOOST_TEST(!output->has(part), output->output);
}

BOOST_AUTO_TEST_CASE(check_warnings_do_not_fail) {
  pam.write_config(pam.default_config("exempt_groups = [\"no-such-group\", \"wheel\"]"));
  pam.write_users("alice phone=+15551234567\nghost phone=+15550000000\ndave channel=email\n");
  const auto r = run("check " + config_arg());
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.has(pam.config_path() + ":3: warning: key 'exempt_groups': group 'no-such-group' does not exist"));
  BOOST_TEST(r.has(pam.users_path() + ":2: warning: user 'ghost' has no passwd entry"));
  BOOST_TEST(r.has(pam.users_path() + ":3: warning: 'dave' has no destination for channel 'email'"));
  BOOST_TEST(r.has("3 warnings"));
}

// A group that cannot be read decides nothing at login; check says why.
BOOST_AUTO_TEST_CASE(check_says_why_a_group_cannot_be_read) {
  pam.write_config(pam.default_config("require_groups = [\"broken\"]\nexempt_groups = [\"broken\"]"));
  setenv("PAM_OTP_TEST_NSS_BROKEN_GROUPS", "broken", 1);
  const auto r = run("check " + config_arg());
  unsetenv("PAM_OTP_TEST_NSS_BROKEN_GROUPS");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.has(pam.config_path() + ":3: warning: key 'require_groups': group 'broken' cannot be read: "
                   "Input/output error; logins count it as a group every user is in"));
  BOOST_TEST(r.has(pam.config_path() + ":4: warning: key 'exempt_groups': group 'broken' cannot be read: "
                   "Input/output error; it exempts nobody"));
}

BOOST_AUTO_TEST_CASE(check_reaches_each_base_url_over_tls) {
  std::string config = pam.default_config();
  config.replace(config.find(pam.mock_url()), pam.mock_url().size(), "https://127.0.0.1:1");
  pam.write_config(config);
  const auto down = run("check " + config_arg());
  BOOST_TEST(down.status == 1);
  BOOST_TEST(down.has("key 'provider.mock.base_url': https://127.0.0.1:1 cannot be reached: connect:"));
  BOOST_TEST(run("check --offline " + config_arg()).status == 0);
  // No CA file: the mock's certificate is not trusted by the system store.
  std::string untrusted = pam.default_config();
  untrusted.erase(untrusted.find("ca_file"), untrusted.find('\n', untrusted.find("ca_file")) - untrusted.find("ca_file"));
  pam.write_config(untrusted);
  const auto tls = run("check " + config_arg());
  BOOST_TEST(tls.status == 1);
  BOOST_TEST(tls.has("cannot be reached: tls_verification:"));
}

BOOST_AUTO_TEST_CASE(show_applies_defaults_presets_and_redacts_secrets) {
  const auto r = run("show " + config_arg());
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.has("attempts = 3"));
  BOOST_TEST(r.has("failmode = 'secure'"));
  BOOST_TEST(r.has("api_key = '<redacted>'"));
  BOOST_TEST(!r.has("test-api-key"));
  BOOST_TEST(r.has("token = '${api_key}'"));
  for (const char* key : {"debug", "failmode", "attempts", "resends", "resend_cooldown", "code_pattern", "echo_code",
                          "channel", "unenrolled", "users_file", "require_groups", "exempt_groups", "exempt_networks",
                          "exempt_services", "timeout", "connect_timeout", "deadline", "ca_file", "pinned_public_key",
                          "client_cert", "client_key", "proxy", "secrets_file", "secrets_group"})
    BOOST_TEST((r.has(std::string("\n") + key + " = ") || r.has(std::string("# ") + key + " is not set")), key);

  pam.write_config("users_file = \"" + pam.users_path() + "\"\n[provider.corp]\npreset = \"stytch\"\n"
                   "project_id = \"project-test-1\"\nsecret = \"secret-test-hidden\"\n");
  const auto stytch = run("show " + config_arg());
  BOOST_TEST(stytch.status == 0);
  BOOST_TEST(stytch.has("secret = '<redacted>'"));
  BOOST_TEST(!stytch.has("secret-test-hidden"));
  BOOST_TEST(stytch.has("url = '/v1/otps/email/send'"));  // the preset's steps
  BOOST_TEST(stytch.has("preset = 'stytch'"));
}

BOOST_AUTO_TEST_CASE(show_of_a_broken_configuration_lists_the_problems) {
  pam.write_config(pam.default_config("attempts = 0"));
  const auto r = run("show " + config_arg());
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.has(pam.config_path() + ":3: key 'attempts': must be from 1 to 20"));
}

BOOST_AUTO_TEST_CASE(test_logs_in_with_the_code_typed) {
  Shared::mock().set_next_code("246810");
  const auto r = run("test alice " + config_arg(), "246810\n");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.has("Code sent to +1******4567 (Enter for a new one): "));
  BOOST_TEST(r.has("log(debug): exchange POST 127.0.0.1"));
  BOOST_TEST(r.has("HTTP 200 -> sent"));
  BOOST_TEST(r.has("HTTP 200 -> accepted"));
  BOOST_TEST(r.has(" ms\n"));
  BOOST_TEST(r.has("result: PAM_SUCCESS"));
  BOOST_TEST(Shared::mock().outbox().size() == 1u);
}

BOOST_AUTO_TEST_CASE(test_reports_a_failed_login) {
  Shared::mock().set_next_code("246810");
  const auto r = run("test alice " + config_arg(), "111111\n111111\n111111\n");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.has("Incorrect code, 2 attempts left."));
  BOOST_TEST(r.has("result: PAM_MAXTRIES"));
}

BOOST_AUTO_TEST_CASE(test_with_a_forced_channel) {
  pam.write_users("carol phone=+15557654321 email=carol@example.com\n");
  Shared::mock().set_next_code("135790");
  const auto r = run("test carol --channel email " + config_arg(), "135790\n");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(Shared::mock().outbox().at(0).to == "carol@example.com");
}

BOOST_AUTO_TEST_CASE(explain_sends_nothing) {
  pam.write_config(pam.default_config("exempt_groups = [\"wheel\"]\nexempt_networks = [\"10.0.0.0/8\"]\n"
                                      "exempt_services = [\"cron\"]"));
  pam.write_users("alice phone=+15551234567\ncarol phone=+15557654321 email=carol@example.com channel=ask\n"
                  "dave channel=email\n");
  const auto wheel = run("test alice --explain " + config_arg());
  BOOST_TEST(wheel.status == 1);
  BOOST_TEST(wheel.has("scope:      out of scope: exempt_groups: wheel (PAM_IGNORE, no code)"));
  const auto carol = run("test carol --explain " + config_arg());
  BOOST_TEST(carol.status == 0);
  BOOST_TEST(carol.has("scope:      in scope (service pam-otp, rhost none)"));
  BOOST_TEST(carol.has("channel:    a menu of 4: 1) sms +1******4321 2) voice +1******4321 3) whatsapp +1******4321 "
                       "4) email c***@example.com"));
  BOOST_TEST(carol.has("send:       POST /v1/otp/send"));
  BOOST_TEST(carol.has("result:     a code would be sent (nothing was sent)"));
  BOOST_TEST(run("test carol --explain --rhost 10.9.8.7 " + config_arg()).has("exempt_networks: 10.9.8.7 is in 10.0.0.0/8"));
  BOOST_TEST(run("test carol --explain --service cron " + config_arg()).has("exempt_services: cron"));
  BOOST_TEST(run("test dave --explain " + config_arg()).has("channel:    email: no destination for it, unenrolled (PAM_AUTH_ERR)"));
  BOOST_TEST(run("test ghost --explain " + config_arg()).has("user:       ghost: no passwd entry (PAM_USER_UNKNOWN)"));
  BOOST_TEST(Shared::mock().requests().empty());
}

// A distinct canary in every place that can hold a secret; none may appear
// in show, check, test --explain, test, or the module's syslog (debug on).
BOOST_AUTO_TEST_CASE(no_secret_is_shown_anywhere) {
  std::string provider = otp::testing::mock_provider_toml(
      "\"" + pam.mock_url().replace(0, 8, "https://urluser:CANARY-URL@") + "\"");
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = provider.find(from);
    BOOST_REQUIRE(at != std::string::npos);
    provider.replace(at, from.size(), to);
  };
  replace("api_key = \"test-api-key\"\n",
          "Api_Secret = \"CANARY-CAPS\"\ncustom_value = \"CANARY-MARKED\"\nsecret_keys = [\"custom_value\"]\n"
          "api_token_extra = \"x$${CANARY-DOLLAR\"\n"
          "headers = { \"X-API-Key\" = \"CANARY-HEADER\", \"X-Other\" = \"Bearer CANARY-BEARER\", "
          "\"X-Secret\" = \"${Api_Secret}\", \"X-Custom\" = \"${custom_value}\", \"X-T\" = \"${api_token_extra}\" }\n");
  replace("auth = { scheme = \"bearer\", token = \"${api_key}\" }", "auth = { scheme = \"bearer\", token = \"test-api-key\" }");
  pam.write_config("users_file = \"" + pam.users_path() + "\"\nca_file = \"" + Shared::pki().ca_cert +
                   "\"\ndebug = true\nproxy = \"http://proxyuser:CANARY-PROXY@127.0.0.1:9\"\n" + provider);
  const std::vector<std::string> canaries = {"CANARY", "test-api-key"};
  auto expect_clean = [&](const std::string& what, const std::string& text) {
    for (const auto& canary : canaries) BOOST_TEST(text.find(canary) == std::string::npos, what << " shows " << canary);
  };
  const auto show = run("show " + config_arg());
  BOOST_TEST(show.status == 0);
  BOOST_TEST(show.has("<redacted>"));
  BOOST_TEST(show.has("X-Secret = '${Api_Secret}'"));  // a reference names a secret without holding it
  expect_clean("show", show.output);
  const auto check = run("check " + config_arg());
  BOOST_TEST(check.status == 0);
  expect_clean("check", check.output);
  expect_clean("test --explain", run("test alice --explain " + config_arg()).output);
  Shared::mock().set_next_code("246810");
  const auto test = run("test alice " + config_arg(), "246810\n");
  BOOST_TEST(test.status == 0);
  expect_clean("test", test.output);
  Shared::mock().set_next_code("246810");
  const auto login = pam.authenticate("alice", {say("alice-password"), say("246810")});
  BOOST_TEST(login.rc == PAM_SUCCESS);
  expect_clean("syslog", login.log);
  // Unreachable, check names the URL, without its user information.
  std::string text = read_file(pam.config_path());
  text.replace(text.find(pam.mock_url().substr(8)), pam.mock_url().size() - 8, "127.0.0.1:1");
  pam.write_config(text);
  const auto down = run("check " + config_arg());
  BOOST_TEST(down.has("https://<redacted>@127.0.0.1:1 cannot be reached"));
  expect_clean("check (down)", down.output);
}

// pam-otp holds the API key and the typed code: it never dumps core and is
// not dumpable (so no process of the same user can ptrace or read it). Seen
// from outside while it waits for the code: the files in /proc/PID belong to
// root for a non-dumpable process, and its core size limit is 0. Run as
// nobody, since root owns those files of root's processes anyway.
BOOST_AUTO_TEST_CASE(pam_otp_never_dumps_core) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: running pam-otp as another user needs root (CI runs as root)");
    return;
  }
  TempDir dir;
  BOOST_REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  const std::string ca = dir.write("ca.pem", read_file(Shared::pki().ca_cert), 0644);
  const std::string users = dir.write("users", "alice phone=+15551234567\n", 0644);
  std::string text = pam.default_config();
  text.replace(text.find(pam.users_path()), pam.users_path().size(), users);
  text.replace(text.find(Shared::pki().ca_cert), Shared::pki().ca_cert.size(), ca);
  const std::string config = dir.write("pam_otp.conf", text, 0600);
  for (const auto& file : {ca, users, config}) BOOST_REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
  const std::string fifo = dir.path() + "/stdin", out = dir.write("out", "", 0644);
  BOOST_REQUIRE(::chown(out.c_str(), 65534, 65534) == 0);
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0666) == 0);
  auto env = nss_only_environment();
  for (auto& e : env)  // nss_wrapper's files, where nobody can read them
    for (const char* name : {"NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP"})
      if (e.rfind(std::string(name) + "=", 0) == 0)
        e = std::string(name) + "=" + dir.write(name, read_file(e.substr(e.find('=') + 1)), 0644);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {  // only async-signal-safe calls until exec
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(126);
    const int in = ::open(fifo.c_str(), O_RDONLY), o = ::open(out.c_str(), O_WRONLY | O_TRUNC);
    if (in < 0 || o < 0 || ::dup2(in, 0) < 0 || ::dup2(o, 1) < 0 || ::dup2(o, 2) < 0) ::_exit(126);
    const char* argv[] = {PAM_OTP_CLI_PATH, "test", "alice", "--config", config.c_str(), nullptr};
    ::execve(argv[0], const_cast<char* const*>(argv), envp.data());
    ::_exit(127);
  }
  const int writer = ::open(fifo.c_str(), O_WRONLY);  // lets the child's open return
  BOOST_REQUIRE(writer >= 0);
  for (int i = 0; i < 600 && read_file(out).find("Code sent to") == std::string::npos; ++i) ::usleep(50000);
  BOOST_TEST_MESSAGE("pam-otp said: " << read_file(out));
  BOOST_REQUIRE(read_file(out).find("Code sent to") != std::string::npos);  // waiting for the code
  const std::string proc = "/proc/" + std::to_string(pid);
  struct stat st {};
  BOOST_REQUIRE(::stat((proc + "/environ").c_str(), &st) == 0);
  BOOST_TEST(read_file(proc + "/status").find("Uid:\t65534") != std::string::npos);
  BOOST_TEST(st.st_uid == 0u);  // not dumpable
  const std::string limits = read_file(proc + "/limits");
  const auto core = limits.find("Max core file size");
  BOOST_REQUIRE(core != std::string::npos);
  const std::string line = limits.substr(core, limits.find('\n', core) - core);
  BOOST_TEST(line.find(" 0 ") != std::string::npos, line);
  BOOST_TEST(line.find("unlimited") == std::string::npos, line);
  ::close(writer);  // end of input: pam-otp gives up
  BOOST_TEST(wait_for(pid) == 1);
}

// Advice a preset gives as data: BlockID's countries, privacyIDEA's PIN.
BOOST_AUTO_TEST_CASE(check_warns_as_the_preset_says) {
  pam.write_users("alice phone=+15551234567\ncarol phone=+447700900123\n");
  pam.write_config("users_file = \"" + pam.users_path() + "\"\n[provider.corp]\npreset = \"blockid\"\n"
                   "base_url = \"https://127.0.0.1:1\"\ntenant_id = \"t\"\ncommunity_id = \"c\"\nlicense_key = \"l\"\n"
                   "community_public_key = \"" + Shared::mock().community_public_key() + "\"\n");
  const auto blockid = run("check --offline " + config_arg());
  BOOST_TEST(blockid.status == 0);
  BOOST_TEST(blockid.has(pam.users_path() + ":2: warning: key 'phone': provider 'corp' serves phone numbers of +1, +91 only, not +44"));
  BOOST_TEST(!blockid.has(":1: key 'phone'"));
  pam.write_config("users_file = \"" + pam.users_path() + "\"\n[provider.corp]\npreset = \"privacyidea\"\n"
                   "base_url = \"https://127.0.0.1:1\"\ntrigger_pass = \"1234\"\n");
  const auto fixed = run("check --offline " + config_arg());
  BOOST_TEST(fixed.status == 0);
  BOOST_TEST(fixed.has("warning: key 'provider.corp.trigger_pass': is a fixed text: one PIN for every user"));
  pam.write_config("users_file = \"" + pam.users_path() + "\"\n[provider.corp]\npreset = \"privacyidea\"\n"
                   "base_url = \"https://127.0.0.1:1\"\ntrigger_pass = \"${password}\"\n");
  BOOST_TEST(!run("check --offline " + config_arg()).has("trigger_pass"));
}

// sms+email only where a provider lists it: refused at load otherwise.
BOOST_AUTO_TEST_CASE(sms_and_email_is_refused_where_the_provider_cannot) {
  pam.write_config(pam.default_config("channel = \"sms+email\""));
  const auto generic = run("check --offline " + config_arg());
  BOOST_TEST(generic.status == 1);
  BOOST_TEST(generic.has("key 'channel': provider 'mock' has no channel 'sms+email'"));
  pam.write_users("alice phone=+15551234567 email=alice@example.com channel=sms+email\n");
  pam.write_config(pam.default_config());
  const auto per_user = run("check --offline " + config_arg());
  BOOST_TEST(per_user.status == 1);
  BOOST_TEST(per_user.has(pam.users_path() + ":1: key 'channel': provider 'mock' has no channel 'sms+email'"));
}


namespace {

// Kills the process on the way out of a failed test.
struct KillOnExit {
  pid_t pid;
  ~KillOnExit() {
    if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
  }
};

}  // namespace

// pam-otp try-out serves the shipped [provider.mock] over TLS with a CA it
// makes (and whose key it drops); the shipped config checks out against it;
// Ctrl-C stops it. The package test follows the same path on the installed
// package, `pam-otp test` on a terminal included.
BOOST_AUTO_TEST_CASE(try_out_serves_the_shipped_configuration) {
  TempDir dir;
  const std::string pki = dir.path() + "/try-out", log = dir.path() + "/try-out.log";
  KillOnExit server{spawn_process({PAM_OTP_CLI_PATH, "try-out", "--server", PAM_OTP_MOCK_PATH, "--dir", pki,
                                   "--port", "0"},
                                  nss_only_environment(), "", log)};
  BOOST_REQUIRE(server.pid > 0);
  for (int i = 0; i < 400 && read_file(log).find("listening on") == std::string::npos; ++i) ::usleep(50000);
  BOOST_TEST_MESSAGE("try-out said: " << read_file(log));
  const std::string port = std::string(otp::trim(read_file(pki + "/port")));
  BOOST_REQUIRE(!port.empty());
  BOOST_REQUIRE(read_file(log).find("listening on https://127.0.0.1:" + port) != std::string::npos);
  BOOST_TEST(read_file(log).find("it sends nothing, the codes appear here") != std::string::npos);
  BOOST_TEST(::access((pki + "/ca.key").c_str(), F_OK) != 0, "the try-out CA's key was kept");
  struct stat key {};
  BOOST_REQUIRE(::stat((pki + "/server.key").c_str(), &key) == 0);
  BOOST_TEST((key.st_mode & 0777) == 0600u);

  pam.write_config(example_config());
  const auto check = run("check " + config_arg() + " --arg users_file=" + pam.users_path() + " --arg ca_file=" + pki +
                         "/ca.pem --arg provider.mock.base_url=https://127.0.0.1:" + port);
  BOOST_TEST(check.status == 0);
  BOOST_TEST(check.has("OK (provider mock"));
  const auto explained = run("test alice --explain " + config_arg() + " --arg users_file=" + pam.users_path() +
                             " --arg ca_file=" + pki + "/ca.pem");
  BOOST_TEST(explained.has("a code would be sent"));

  // Run by root, the server no longer is once it listens: any local user
  // can talk to it.
  const std::string status = read_file("/proc/" + std::to_string(server.pid) + "/status");
  if (::geteuid() == 0) {
    const passwd* nobody = ::getpwnam("nobody");
    BOOST_REQUIRE(nobody != nullptr);
    const std::string uid = std::to_string(nobody->pw_uid);
    BOOST_TEST(status.find("\nUid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid + "\n") != std::string::npos, status);
    const auto groups = status.find("\nGroups:\t");
    BOOST_REQUIRE(groups != std::string::npos);
    BOOST_TEST(otp::trim(status.substr(groups + 9, status.find('\n', groups + 1) - groups - 9)).empty(), status);
  } else {
    BOOST_TEST_MESSAGE("skipped the privilege drop: try-out runs as root only in CI");
  }
  // A local user who opens many connections and says nothing holds at most
  // a few of its descriptors and threads; once they go, it answers again.
  {
    std::vector<int> idle;
    for (int i = 0; i < 300; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      idle.push_back(fd);
    }
    ::usleep(500000);
    const auto fds = std::distance(std::filesystem::directory_iterator("/proc/" + std::to_string(server.pid) + "/fd"),
                                   std::filesystem::directory_iterator());
    const std::string threads = read_file("/proc/" + std::to_string(server.pid) + "/status");
    BOOST_TEST_MESSAGE("with 300 idle connections try-out holds " << fds << " descriptors");
    BOOST_TEST(fds < 64);
    BOOST_TEST(std::stoi(threads.substr(threads.find("\nThreads:\t") + 10)) < 32);
    for (int fd : idle) ::close(fd);
  }
  const auto after = run("check " + config_arg() + " --arg users_file=" + pam.users_path() + " --arg ca_file=" + pki +
                         "/ca.pem --arg provider.mock.base_url=https://127.0.0.1:" + port);
  BOOST_TEST(after.status == 0);

  BOOST_REQUIRE(::kill(server.pid, SIGINT) == 0);
  BOOST_TEST(wait_for(std::exchange(server.pid, 0)) == 0);
}

// The shipped configuration trusts exactly what try-out serves by default:
// its CA file and its port.
BOOST_AUTO_TEST_CASE(the_shipped_configuration_points_at_the_try_out_provider) {
  const auto help = run("try-out --help");
  BOOST_TEST(help.has("--dir DIR      where the certificates go (default /var/lib/pam_otp/try-out)"));
  BOOST_TEST(help.has("(default 8443; 0: any free port)"));
  const std::string shipped = example_config();
  BOOST_TEST(shipped.find("\nca_file = \"/var/lib/pam_otp/try-out/ca.pem\"\n") != std::string::npos);
  BOOST_TEST(shipped.find("\nbase_url = \"https://127.0.0.1:8443\"\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(try_out_without_its_server_says_so) {
  const auto r = run("try-out --server /nonexistent/otp-mock --dir /nonexistent/try-out");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.has("/nonexistent/otp-mock: No such file or directory (pam-otp was built without the mock"));
}

// Recovery codes from the command line: printed once, hashes kept, used
// through a real login, listed, revoked.
BOOST_AUTO_TEST_CASE(recovery_codes_issue_list_use_and_revoke) {
  const auto issued = run("recovery issue alice --count 3 " + config_arg());
  BOOST_TEST(issued.status == 0);
  BOOST_TEST(issued.has("Recovery codes for alice"));
  const std::regex shape("[a-hjkmnp-z]{4}-[a-hjkmnp-z]{4}-[a-hjkmnp-z]{4}");
  std::vector<std::string> codes;
  for (std::sregex_iterator it(issued.output.begin(), issued.output.end(), shape), end; it != end; ++it)
    codes.push_back(it->str());
  BOOST_REQUIRE(codes.size() == 3u);
  // Only hashes are in the file.
  const std::string db = read_file(pam.state_path());
  for (const auto& code : codes) BOOST_TEST(db.find(code.substr(0, 4) + code.substr(5, 4)) == std::string::npos);
  BOOST_TEST(run("recovery list alice " + config_arg()).has("alice: 3 of 3 recovery codes left"));

  // A login that types one in place of the code (recovery = "always").
  pam.write_config(pam.default_config("recovery = \"always\""));
  const auto r = pam.authenticate("alice", {say("alice-password"), say(codes[1])});
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.logged("result=recovery_code user=alice"));
  BOOST_TEST(r.logged("2 left"));
  const auto again = pam.authenticate("alice", {say("alice-password"), say(codes[1]), say(codes[1]), say(codes[1])});
  BOOST_TEST(again.rc == PAM_MAXTRIES);
  const auto listed = run("recovery list alice " + config_arg());
  BOOST_TEST(listed.has("alice: 2 of 3 recovery codes left"));
  BOOST_TEST(listed.has("code 2: used "));
  BOOST_TEST(listed.has("(" + pam.service + ")"));

  BOOST_TEST(run("recovery revoke alice " + config_arg()).status == 0);
  BOOST_TEST(run("recovery list alice " + config_arg()).has("alice has no recovery codes"));
  BOOST_TEST(pam.authenticate("alice", {say("alice-password"), say(codes[0]), say(codes[0]), say(codes[0])}).rc == PAM_MAXTRIES);

  BOOST_TEST(run("recovery issue nosuchuser " + config_arg()).has("no user 'nosuchuser' (no passwd entry)"));
  BOOST_TEST(run("recovery issue alice --count 0 " + config_arg()).status == 2);
  BOOST_TEST(run("recovery frobnicate alice").status == 2);
}

BOOST_AUTO_TEST_CASE(state_list_and_forget) {
  pam.write_config(pam.default_config("remember = 3600\nremember_services = [\"" + pam.service +
                                      "\"]\nsend_limit = { user = \"5/15m\" }"));
  pam.rhost = "198.51.100.7";
  BOOST_REQUIRE(pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")}).rc == PAM_SUCCESS);
  const auto listed = run("state list " + config_arg());
  BOOST_TEST(listed.status == 0);
  BOOST_TEST(listed.has("alice  " + pam.service + "  verified "));
  BOOST_TEST(!listed.has("198.51.100.7"));  // the store holds a keyed hash, never the address
  BOOST_TEST(run("state list alice " + config_arg()).has("alice: 1 of 5 codes sent in the last 15m (send_limit.user)"));
  BOOST_TEST(pam.authenticate("alice", {say("alice-password")}).logged("result=remembered"));
  BOOST_TEST(run("state forget alice " + config_arg()).has("Forgot alice's remembered logins"));
  BOOST_TEST(run("state list " + config_arg()).has("No remembered logins."));
  BOOST_TEST(pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")}).logged("result=success"));
}

// One address's send counts (its own and every user's share of it) can be
// forgotten, as a user's can.
BOOST_AUTO_TEST_CASE(state_forget_an_address) {
  pam.write_config(pam.default_config("send_limit = { rhost = \"1/1h\", user_rhost = \"1/1h\" }"));
  pam.rhost = "2001:db8::7";
  BOOST_REQUIRE(pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")}).rc == PAM_SUCCESS);
  const auto limited = pam.authenticate("bob", {say("bob-password")});
  BOOST_TEST(limited.rc == PAM_MAXTRIES, limited.describe());
  BOOST_TEST(limited.logged("send_limit.rhost 1/1h reached for 2001:db8::7"));
  const auto forgot = run("state forget --rhost 2001:DB8:0::7 " + config_arg());  // another spelling of it
  BOOST_TEST(forgot.status == 0);
  BOOST_TEST(forgot.has("Forgot the send_limit counters of 2001:db8::7 (its own and every user's share of it)."));
  const auto alice = pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")});
  BOOST_TEST(alice.rc == PAM_SUCCESS, alice.describe());  // her share too
  BOOST_TEST(run("state forget --rhost " + config_arg()).status == 2);
  pam.write_config(pam.default_config("send_limit = { user = \"5/15m\", rhost = \"20/1h\" }"));
  BOOST_TEST(run("check --offline " + config_arg()).has(pam.config_path() + ":3: warning: key 'send_limit': limits rhost but not user_rhost"));
  BOOST_TEST(run("state forget alice --rhost 2001:db8::7 " + config_arg()).status == 2);
}

BOOST_AUTO_TEST_CASE(explain_names_the_caller_whose_code_it_is) {
  pam.write_config(pam.default_config("destination_user = \"caller\""));
  const auto r = run("test alice --explain --service su --ruser bob " + config_arg());
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.has("the code goes to bob's destination, not alice's"));
  BOOST_TEST(r.has("email to b***@example.com"));
  BOOST_TEST(run("test alice --explain --service sudo --ruser bob " + config_arg()).has("sms to +1******4567"));
}

// check reports a state file that cannot be used: a warning, or an error
// when failmode = "recovery" depends on it.
BOOST_AUTO_TEST_CASE(check_reports_the_state_files_health) {
  BOOST_REQUIRE(::mkdir((pam.dir() + "/state").c_str(), 0700) == 0);
  BOOST_REQUIRE(::chmod((pam.dir() + "/state").c_str(), 0777) == 0);
  const auto warned = run("check --offline " + config_arg());
  BOOST_TEST(warned.status == 0);
  BOOST_TEST(warned.has("warning: key 'state_file': the local state cannot be used: " + pam.dir() +
                        "/state is writable by group or others (mode 0777)"));
  pam.write_config(pam.default_config("failmode = \"recovery\""));
  const auto failed = run("check --offline " + config_arg());
  BOOST_TEST(failed.status == 1);
  BOOST_TEST(failed.has("failmode = \"recovery\" would refuse everyone while the provider is down"));
  pam.write_config(pam.default_config("failmode = \"recovery\"\nrecovery = \"off\""));
  BOOST_TEST(run("check --offline " + config_arg()).has("key 'failmode': \"recovery\" lets users in with a recovery code"));
}

// check says when a state service is there that logins cannot use, and
// nothing when there is none or it serves them.
BOOST_AUTO_TEST_CASE(check_reports_a_state_service_logins_pass_by) {
  const std::string socket = pam.dir() + "/run/state.sock";
  pam.write_config(pam.default_config("state_service = \"" + socket + "\""));
  BOOST_TEST(!run("check --offline " + config_arg()).has("state_service"));
  {
    StateServiceProcess other(pam.dir() + "/other/state.db", socket);
    const auto r = run("check --offline " + config_arg());
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.has("warning: key 'state_service': logins cannot use the state service: the state service at " +
                     socket + " keeps " + pam.dir() + "/other/state.db, not " + pam.state_path()),
               r.output);
  }
  StateServiceProcess service(pam.state_path(), socket);
  BOOST_TEST(!run("check --offline " + config_arg()).has("state_service"));
}

// The module sshd's stack names needs the HTTP plugin of its own build
// beside it: check says so before every login it covers is refused.
BOOST_AUTO_TEST_CASE(check_finds_the_http_plugin_beside_the_module) {
  namespace fs = std::filesystem;
  TempDir dir;
  fs::create_directories(dir.path() + "/lib/pam_otp");
  fs::create_directories(dir.path() + "/pam.d");
  const std::string module = dir.path() + "/lib/pam_otp.so", plugin = dir.path() + "/lib/pam_otp/http.so";
  const fs::path built_plugin = fs::path(PAM_OTP_MODULE_PATH).parent_path() / "pam_otp" / "http.so";
  dir.write("pam.d/sshd", "auth requisite pam_unix.so\nauth required " + module + "\n");
  const std::string check = "check " + config_arg() + " --offline --pam-dir " + dir.path() + "/pam.d";
  const auto no_module = run(check);
  BOOST_TEST(no_module.status == 1);
  BOOST_TEST(no_module.has(dir.path() + "/pam.d/sshd:2: reaches " + module + ", which does not exist"));

  fs::copy_file(PAM_OTP_MODULE_PATH, module);
  const auto missing = run(check);
  BOOST_TEST(missing.status == 1);
  BOOST_TEST(missing.has(module + ": cannot load the HTTP plugin: " + plugin));
  BOOST_TEST(missing.has("every login this pam_otp covers is refused until the plugin of its build is installed as " +
                         plugin));

  fs::copy_file(PAM_OTP_UNRESOLVED_PLUGIN_PATH, plugin);
  const auto unresolved = run(check);
  BOOST_TEST(unresolved.status == 1);
  BOOST_TEST(unresolved.has("pam_otp_test_symbol_nobody_defines"));

  fs::copy_file(PAM_OTP_MODULE_PATH, plugin, fs::copy_options::overwrite_existing);  // loads, no entry point
  const auto other = run(check);
  BOOST_TEST(other.status == 1);
  BOOST_TEST(other.has(module + ": the HTTP plugin " + plugin + " is not from this build of pam_otp"));

  fs::copy_file(built_plugin, plugin, fs::copy_options::overwrite_existing);
  const std::string helper = dir.path() + "/lib/pam_otp/state-helper";
  const auto no_helper = run(check);
  BOOST_TEST(no_helper.status == 1);
  BOOST_TEST(no_helper.has(module + ": the state helper " + helper + " cannot be run"));
  BOOST_TEST(no_helper.has("su and sudo logins this pam_otp covers are refused"));

  fs::copy_file(built_plugin.parent_path() / "state-helper", helper);
  const auto good = run(check);
  BOOST_TEST(good.status == 0);
  BOOST_TEST(!good.has(plugin));
  BOOST_TEST(!good.has(helper));

  // A module of another build asks for another entry point, whatever
  // pam-otp's own build is: the same bytes with the name changed.
  const std::string prefix = "pam_otp_http_transport_";
  std::string bytes = read_file(module);
  BOOST_REQUIRE(bytes.find(prefix) != std::string::npos);
  for (auto i = bytes.find(prefix); i != std::string::npos; i = bytes.find(prefix, i + 1))
    bytes[i + prefix.size()] = '9';  // the version's first digit
  fs::remove(module);
  dir.write("lib/pam_otp.so", bytes, 0755);
  const auto other_build = run(check);
  BOOST_TEST(other_build.status == 1);
  BOOST_TEST(other_build.has("(no pam_otp_http_transport_9"));
}

// What enable and disable refuse before anything can change; the package
// test drives them end to end through a pty.
BOOST_AUTO_TEST_CASE(enable_and_disable_refuse_what_they_cannot_do_safely) {
  const auto config = run("enable --config /etc/security/pam_otp.conf");
  BOOST_TEST(config.status == 2);
  BOOST_TEST(config.has("the profile's logins read /etc/security/pam_otp.conf with no arguments"));
  BOOST_TEST(run("disable --user alice").status == 2);
  BOOST_TEST(run("enable --help").has("Usage: pam-otp enable"));
  BOOST_TEST(run("disable --help").has("Usage: pam-otp disable"));
  TempDir root;
  for (const char* command : {"enable", "disable"}) {
    const auto r = run(std::string(command) + " --root " + root.path());
    BOOST_TEST(r.status == 1, command);
    BOOST_TEST(r.has(::geteuid() == 0 ? root.path() + "/usr/share/pam-configs/otp is missing"
                                      : std::string("must be run as root")),
               command);
  }
}

BOOST_AUTO_TEST_SUITE_END()
