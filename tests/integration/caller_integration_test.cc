// What the caller of su or sudo can do to the login (docs/design.md, "When
// the caller controls the process"): su and sudo run pam_otp with the
// caller's real uid, so the caller may stop the process or lower its
// limits. Each login runs through real libpam in a process of its own
// (otp-login) whose real uid is the caller's, as a setuid program's is; the
// caller's signals come from a process with the caller's uid. Needs root
// (CI is root); skipped with a reason otherwise.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "child_process.h"
#include "example_provider.h"
#include "pam_harness.h"
#include "time_bound.h"

using namespace otp::testing;
using std::chrono::milliseconds;

namespace {

constexpr uid_t kAlice = 1001;  // the nss_wrapper passwd's alice: the caller
const char* kPhone = "+15551234567";

bool skipped_without_root() {
  if (::geteuid() == 0) return false;
  BOOST_TEST_MESSAGE("skipped: acting as a setuid program's caller needs root (CI runs as root)");
  return true;
}

// Sends sig to pid from a process whose uids are all the caller's: what
// the caller of su or sudo is allowed to do.
bool signal_as_caller(pid_t pid, int sig) {
  const pid_t child = ::fork();
  if (child == 0) _exit(::setresuid(kAlice, kAlice, kAlice) == 0 && ::kill(pid, sig) == 0 ? 0 : 1);
  int status = 0;
  return child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct Login {
  pid_t pid = -1;
  std::string out;  // its output file: pam_wrapper's log lines and otp-login's verdict
};

struct CallerFixture {
  PamHarness pam;

  CallerFixture() { Shared::mock().reset(); }
  ~CallerFixture() { Shared::mock().clear_fault(); }

  void configure(const std::string& url, const std::string& top) {
    pam.write_config("users_file = \"" + pam.users_path() + "\"\nca_file = \"" + Shared::pki().ca_cert +
                     "\"\nstate_file = \"" + pam.state_path() + "\"\nfailmode = \"safe\"\n" + top + "\n" +
                     mock_provider_toml("\"" + url + "\""));
    pam.write_stack();
  }

  // alice's login as su or sudo would run it for her: real uid hers, with
  // `extra` environment (OTP_LOGIN_NOFILE=N).
  Login start(const std::vector<std::string>& extra, const std::string& name) {
    std::vector<std::string> env = nss_only_environment();
    for (const char* var : {"LD_PRELOAD", "PAM_WRAPPER", "PAM_WRAPPER_RUNTIME_DIR", "PAM_WRAPPER_DEBUGLEVEL"})
      if (const char* value = std::getenv(var)) env.push_back(std::string(var) + "=" + value);
    env.push_back(std::string("PAM_WRAPPER_SERVICE_DIR=") + std::getenv("PAM_WRAPPER_RUNTIME_DIR"));
    env.push_back("OTP_LOGIN_REAL_UID=" + std::to_string(kAlice));
    env.insert(env.end(), extra.begin(), extra.end());
    Login login;
    login.out = pam.dir() + "/" + name + ".out";
    login.pid = spawn_process({PAM_OTP_LOGIN_PATH, pam.service, "alice", "alice-password", pam.mock_url(),
                               Shared::pki().ca_cert, kPhone},
                              env, "", login.out);
    BOOST_REQUIRE(login.pid > 0);
    return login;
  }

  // Exit status 0 is PAM_SUCCESS (a PAM_IGNORE from pam_otp included: the
  // password module then decides).
  static int finish(const Login& login) {
    int status = 0;
    BOOST_REQUIRE(::waitpid(login.pid, &status, 0) == login.pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  static bool sent() {
    for (const auto& r : Shared::mock().requests())
      if (r.path.find("/send") != std::string::npos) return true;
    return false;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(caller_controls_the_process, CallerFixture)

// The caller stops the process while the code is being sent, for longer
// than the exchange's timeout: the timeout that follows is theirs.
BOOST_AUTO_TEST_CASE(stopped_while_the_code_is_sent) {
  if (skipped_without_root()) return;
  const int timeout = short_timeout();
  configure(pam.mock_url(), "timeout = " + std::to_string(timeout) + "\nconnect_timeout = " + std::to_string(timeout));
  otp::mock::Fault slow;
  slow.delay_ms = timeout * 1000 / 2;
  Shared::mock().set_fault(slow);

  // Unhindered, the slow provider is in time and the code gets through.
  const Login unhindered = start({}, "unhindered");
  BOOST_TEST(finish(unhindered) == 0, read_file(unhindered.out));
  Shared::mock().reset();

  const Login login = start({}, "stopped");
  const auto deadline = std::chrono::steady_clock::now() + within(milliseconds(20000));
  while (!sent() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
  BOOST_REQUIRE(sent());
  BOOST_REQUIRE(signal_as_caller(login.pid, SIGSTOP));
  int status = 0;
  BOOST_REQUIRE(::waitpid(login.pid, &status, WUNTRACED) == login.pid);
  BOOST_REQUIRE(WIFSTOPPED(status));
  std::this_thread::sleep_for(milliseconds(timeout * 1000 + 1000));
  BOOST_REQUIRE(signal_as_caller(login.pid, SIGCONT));
  const int verdict = finish(login);
  const std::string out = read_file(login.out);
  BOOST_TEST_INFO(out);
  BOOST_TEST(verdict == 1);
  BOOST_TEST(out.find("result=failopen") == std::string::npos);
  BOOST_TEST(out.find("result=unavailable") != std::string::npos);
  BOOST_TEST(out.find("timeout:") != std::string::npos);
  BOOST_TEST(out.find("failmode=safe does not apply: whoever started this process") != std::string::npos);
}

// The caller lowers the descriptor limit (ulimit -n N) so that the exchange
// cannot open a socket: that is this machine's failure, a refusal.
BOOST_AUTO_TEST_CASE(too_few_descriptors) {
  if (skipped_without_root()) return;
  for (const std::string host : {"127.0.0.1", "localhost"}) {  // the name needs the resolver's thread and pair
    configure("https://" + host + ":" + std::to_string(Shared::mock().port()), "");
    int reached_the_exchange = 0;
    for (int limit = 6; limit <= 24; ++limit) {
      const Login login = start({"OTP_LOGIN_NOFILE=" + std::to_string(limit)}, "nofile" + std::to_string(limit));
      const int verdict = finish(login);
      const std::string out = read_file(login.out);
      BOOST_TEST_CONTEXT(host << ", ulimit -n " << limit << ":\n" << out) {
        BOOST_TEST(out.find("result=failopen") == std::string::npos);
        // Every limit either lets the whole login work (a code was sent and
        // verified) or refuses it.
        BOOST_TEST((verdict != 0 || sent()));
      }
      if (out.find("this machine could not make the exchange") != std::string::npos) ++reached_the_exchange;
      Shared::mock().reset();
    }
    BOOST_TEST_MESSAGE(host << ": " << reached_the_exchange << " limits failed in the exchange itself");
    BOOST_TEST(reached_the_exchange > 0);
  }
}

BOOST_AUTO_TEST_SUITE_END()
