// What the caller of su or sudo can do to the login (docs/design.md, "When
// the caller controls the process"): su and sudo run pam_otp with the
// caller's real uid, so the caller may stop the process or lower its
// limits. Each login runs through real libpam in a process of its own
// (otp-login) whose real uid is the caller's, as a setuid program's is; the
// caller's signals come from a process with the caller's uid. Needs root
// (CI is root); skipped with a reason otherwise.
#include <boost/test/unit_test.hpp>

#include <linux/capability.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <syslog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "child_process.h"
#include "store/sqlite_store.h"
#include "example_provider.h"
#include "pam_harness.h"
#include "state_service_process.h"
#include "time_bound.h"

using namespace otp::testing;
using std::chrono::milliseconds;

namespace {

constexpr uid_t kAlice = 1001;  // the nss_wrapper passwd's alice: the caller
const char* kPhone = "+15551234567";

// The value after "NAME\t" in a /proc status text.
std::string field_of(const std::string& status, const std::string& name) {
  const auto at = status.find("\n" + name);
  if (at == std::string::npos) return "";
  const auto start = status.find_first_not_of(" \t", at + 1 + name.size());
  return status.substr(start, status.find('\n', start) - start);
}

bool skipped_without_root() {
  if (::geteuid() == 0) return false;
  BOOST_TEST_MESSAGE("skipped: acting as a setuid program's caller needs root (CI runs as root)");
  return true;
}

// Sends sig to pid from a process whose uids are all the caller's: what
// the caller of su or sudo is allowed to do. (A program, not a fork: under
// valgrind a fork of the test reports its threads' memory as lost.)
bool signal_as_caller(pid_t pid, int sig) {
  const pid_t child = spawn_process({"/usr/bin/setpriv", "--reuid=" + std::to_string(kAlice),
                                     "--regid=" + std::to_string(kAlice), "--clear-groups", "/bin/sh", "-c",
                                     "kill -s " + std::to_string(sig) + " " + std::to_string(pid) + " 2>/dev/null"},
                                    {"PATH=/usr/bin:/bin"}, "", "");
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
  // `extra` environment (OTP_LOGIN_NOFILE=N) and `preload` in front of
  // pam_wrapper and nss_wrapper.
  Login start(const std::vector<std::string>& extra, const std::string& name, const std::string& preload = "") {
    std::vector<std::string> env;
    for (const auto& var : nss_only_environment())
      if (var.rfind("LD_PRELOAD=", 0) != 0) env.push_back(var);
    env.push_back("LD_PRELOAD=" + preload + (preload.empty() ? "" : ":") + std::getenv("LD_PRELOAD"));
    for (const char* var : {"PAM_WRAPPER", "PAM_WRAPPER_RUNTIME_DIR", "PAM_WRAPPER_DEBUGLEVEL"})
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

  // alice logs in while the first login is stopped: the send limit the
  // first one counted refuses her send, with no word about the state and
  // within the store's 1 s.
  void another_login_is_limited_in_time() {
    const auto other = pam.authenticate("alice", {say("alice-password"), code_for(kPhone)});
    BOOST_TEST_INFO(other.describe());
    BOOST_TEST(other.rc == PAM_MAXTRIES);
    BOOST_TEST(other.logged("result=send_limited"));
    BOOST_TEST(!other.logged("state:"));
    BOOST_TEST(other.elapsed < within(milliseconds(1000)));
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
  if (sanitized_build()) {  // (valgrind's build runs it: its otp-login is native)
    BOOST_TEST_MESSAGE("skipped in the sanitizer build: with so few descriptors its runtime fails in otp-login "
                       "before the module does; the other builds run this");
    return;
  }
  // Without a send limit the exchange is the first to need descriptors;
  // with one, the state helper is (and keeps one open for the login).
  for (const bool counted : {false, true}) {
    for (const std::string host : {"127.0.0.1", "localhost"}) {  // the name needs the resolver's thread and pair
      configure("https://" + host + ":" + std::to_string(Shared::mock().port()),
                counted ? "send_limit = { user = \"1000/15m\" }" : "");
      int failed_here = 0;
      const std::string here = counted ? "the state helper could not run" : "this machine could not make the exchange";
      for (int limit = 6; limit <= 24; ++limit) {
        // The code known in advance: with so few descriptors otp-login could
        // not ask the mock for it.
        Shared::mock().set_next_code("864213");
        const Login login = start({"OTP_LOGIN_NOFILE=" + std::to_string(limit), "OTP_LOGIN_CODE=864213"},
                                  "nofile" + std::to_string(limit));
        const int verdict = finish(login);
        const std::string out = read_file(login.out);
        const auto result = out.find("result=");
        BOOST_TEST_MESSAGE(host << ", ulimit -n " << limit << ": "
                                << (result == std::string::npos ? out.substr(0, 200) : out.substr(result, 200)));
        BOOST_TEST_CONTEXT(host << ", ulimit -n " << limit << ":\n" << out) {
          BOOST_TEST(out.find("result=failopen") == std::string::npos);
          // Every limit either lets the whole login work (a code was sent
          // and verified) or refuses it.
          BOOST_TEST((verdict != 0 || sent()));
        }
        if (out.find(here) != std::string::npos) ++failed_here;
        Shared::mock().reset();
      }
      BOOST_TEST_CONTEXT(host << (counted ? ", with a send limit" : ", without a send limit")) {
        BOOST_TEST(failed_here > 0, "no limit failed where '" << here << "'");
      }
    }
  }
}

// The caller stops the login while it holds the state file's write lock
// (the send limit's count): no other login may wait on that lock past its
// budget, or lose the send limit, recovery codes and remembered logins.
BOOST_AUTO_TEST_CASE(stopped_while_it_writes_the_state) {
  if (skipped_without_root()) return;
  configure(pam.mock_url(), "send_limit = { user = \"1/15m\" }");
  otp::store::open_sqlite_store(pam.state_path());  // made before: the login's first write is its count
  const Login stopped = start({"PAM_OTP_TEST_STOP_ON_WRITE_LOCK=1"}, "stopped", PAM_OTP_STOP_ON_WRITE_LOCK_PATH);
  // Until it stops holding the lock, or (when the lock is never its own)
  // has counted its send and sent it.
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + within(milliseconds(20000));
  bool stopped_in_write = false;
  while (!sent() && std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(stopped.pid, &status, WNOHANG | WUNTRACED) == stopped.pid) {
      stopped_in_write = WIFSTOPPED(status);
      break;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  BOOST_TEST_MESSAGE("the first login " << (stopped_in_write ? "stopped holding the write lock" : "wrote through its helper"));
  // Another login for alice: its send is refused by the limit the first one
  // counted, and the store answers within its 1 s.
  another_login_is_limited_in_time();
  if (stopped_in_write) BOOST_REQUIRE(signal_as_caller(stopped.pid, SIGCONT));
  finish(stopped);
}

// The state helper the login starts is out of the caller's reach: all its
// uids root's, a session of its own, the limits the caller lowered reset.
BOOST_AUTO_TEST_CASE(the_state_helper_is_out_of_the_callers_reach) {
  if (skipped_without_root()) return;
  configure(pam.mock_url(), "send_limit = { user = \"5/15m\" }");
  otp::mock::Fault slow;  // the login waits for its send; its helper is alive meanwhile
  slow.delay_ms = 2000;
  Shared::mock().set_fault(slow);
  const Login login = start({"OTP_LOGIN_NOFILE=64"}, "helper");
  const auto deadline = std::chrono::steady_clock::now() + within(milliseconds(20000));
  while (!sent() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
  BOOST_REQUIRE(sent());
  // The login's child: the helper.
  std::string children = read_file("/proc/" + std::to_string(login.pid) + "/task/" + std::to_string(login.pid) + "/children");
  const pid_t helper = static_cast<pid_t>(std::atol(children.c_str()));
  BOOST_REQUIRE(helper > 0);
  BOOST_TEST(read_file("/proc/" + std::to_string(helper) + "/comm") == "state-helper\n");
  const std::string status = read_file("/proc/" + std::to_string(helper) + "/status");
  BOOST_TEST(status.find("\nUid:\t0\t0\t0\t0\n") != std::string::npos, status);
  BOOST_TEST(status.find("\nGid:\t0\t0\t0\t0\n") != std::string::npos, status);
  BOOST_TEST(::getsid(helper) == helper);  // a session of its own: no terminal signals
  // Back to 1024 descriptors; where root lacks CAP_SYS_RESOURCE (some
  // containers) the hard limit the caller set stays, and the soft one is
  // raised to it.
  const std::string limits = read_file("/proc/" + std::to_string(helper) + "/limits");
  const bool may_raise = (std::strtoull(field_of(read_file("/proc/self/status"), "CapEff:").c_str(), nullptr, 16) >>
                          CAP_SYS_RESOURCE) & 1;
  BOOST_TEST(limits.find(may_raise ? "Max open files            1024                 1024"
                                   : "Max open files            64                   64") != std::string::npos,
             limits);
  if (!may_raise) BOOST_TEST_MESSAGE("no CAP_SYS_RESOURCE here: the helper keeps the caller's hard limits");
  BOOST_TEST(!signal_as_caller(helper, SIGSTOP));  // EPERM
  BOOST_TEST(signal_as_caller(login.pid, 0));      // while the login itself is the caller's to signal
  BOOST_TEST(finish(login) == 0, read_file(login.out));
  BOOST_TEST(::kill(helper, 0) != 0);  // gone with its login
}

// Where the machine runs the state service, a login the caller controls
// starts no helper: the service, root's and started by no caller, keeps
// the state; stopping the login at its prompt holds nothing others wait on.
BOOST_AUTO_TEST_CASE(with_the_state_service_no_helper_is_started) {
  if (skipped_without_root()) return;
  const std::string socket = pam.dir() + "/run/state.sock";
  StateServiceProcess service(pam.state_path(), socket);
  configure(pam.mock_url(), "send_limit = { user = \"1/15m\" }\nstate_service = \"" + socket + "\"");
  otp::mock::Fault slow;  // the login waits for its send
  slow.delay_ms = 2000;
  Shared::mock().set_fault(slow);
  const Login login = start({}, "service");
  const auto deadline = std::chrono::steady_clock::now() + within(milliseconds(20000));
  while (!sent() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
  BOOST_REQUIRE(sent());  // its send counted: the store was used
  BOOST_TEST(read_file("/proc/" + std::to_string(login.pid) + "/task/" + std::to_string(login.pid) + "/children") ==
             "");
  BOOST_REQUIRE(signal_as_caller(login.pid, SIGSTOP));
  Shared::mock().clear_fault();
  // Another login for alice meanwhile: refused by the limit the first one
  // counted, within the store's budget.
  another_login_is_limited_in_time();
  BOOST_REQUIRE(signal_as_caller(login.pid, SIGCONT));
  BOOST_TEST(finish(login) == 0, read_file(login.out));
}

// Whatever another process holds (here: every WAL read slot, as a writer
// restarting the WAL does for an instant), SQLite's own retries count
// against the store's 1 s: the login goes on without its state after at
// most that, never after SQLite's ten seconds of "locking protocol".
BOOST_AUTO_TEST_CASE(sqlites_own_retries_fit_the_store_budget) {
  configure(pam.mock_url(), "send_limit = { user = \"5/15m\" }");
  const std::string go = pam.dir() + "/held";
  const pid_t holder = spawn_process({PAM_OTP_STATE_WORKER_PATH, "hold-read-slots", pam.state_path(), go},
                                     nss_only_environment(), "", "");
  BOOST_REQUIRE(holder > 0);
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(10000);
  while (::access(go.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(5));
  BOOST_REQUIRE(::access(go.c_str(), F_OK) == 0);
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kPhone)});
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);  // without its state: the code is still asked
  BOOST_TEST(r.logged_at(LOG_ERR, "state: cannot"));
  BOOST_TEST(r.elapsed < within(milliseconds(1000)));
}

BOOST_AUTO_TEST_SUITE_END()
