// The local state through real libpam (pam_wrapper, pam_matrix, pam_otp.so,
// the mock over TLS) and a real SQLite file: recovery codes with failmode =
// "recovery", remembered logins, the send limit across logins, the caller's
// code for su, the store under SIGKILL, and the same through the state
// service.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <signal.h>
#include <syslog.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <thread>

#include "child_process.h"
#include "pam_harness.h"
#include "state_service_process.h"
#include "time_bound.h"
#include "store/keyed_hash.h"
#include "store/recovery_codes.h"
#include "store/sqlite_store.h"

using namespace otp::testing;

namespace {

const char* kAlicePhone = "+15551234567";

struct Fixture {
  PamHarness pam;

  Fixture() { pam.rhost = "203.0.113.5"; }
  ~Fixture() { Shared::mock().clear_fault(); }
  void config(const std::string& top) { pam.write_config(pam.default_config(top)); }

  std::vector<std::string> issue_codes(const std::string& user, int n) {
    auto store = otp::store::open_sqlite_store(pam.state_path());
    const std::string salt = otp::store::make_salt();
    std::vector<std::string> hashes, shown;
    for (const auto& c : otp::store::make_recovery_codes(n)) {
      hashes.push_back(otp::store::hash_recovery_code(*otp::store::normalize_recovery_code(c.reveal()), salt));
      shown.emplace_back(c.reveal());
    }
    store->set_recovery_codes(user, salt, hashes, std::time(nullptr));
    return shown;
  }
  void provider_down() {
    otp::mock::Fault f;
    f.path = "/v1/otp/send";
    f.status = 503;
    Shared::mock().set_fault(f);
  }
  std::size_t sends() {
    std::size_t n = 0;
    for (const auto& r : Shared::mock().requests()) n += r.path == "/v1/otp/send" ? 1 : 0;
    return n;
  }
};


// Runs a SQL statement on the state file, as an administrator with sqlite3 would.
void sql(const std::string& path, const std::string& statement) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(local_state, Fixture)

BOOST_AUTO_TEST_CASE(outage_with_failmode_recovery_takes_a_recovery_code_once) {
  config("failmode = \"recovery\"");
  const auto codes = issue_codes("alice", 2);
  provider_down();
  const auto r = pam.authenticate("alice", {say("alice-password"), say(codes[0])});
  BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());
  BOOST_TEST(r.errors.front() == "The code service is unavailable.");
  BOOST_TEST(r.prompts.back() == "Recovery code: ");
  BOOST_TEST(r.logged_at(LOG_ALERT, "result=recovery_code user=alice rhost=203.0.113.5"));
  BOOST_TEST(r.logged("1 left"));
  const auto again = pam.authenticate("alice", {say("alice-password"), say(codes[0]), say(codes[0]), say(codes[0])});
  BOOST_TEST(again.rc == PAM_MAXTRIES, again.describe());
  // Nobody without one: bob has no codes.
  const auto bob = pam.authenticate("bob", {say("bob-password"), say(codes[1])});
  BOOST_TEST(bob.rc == PAM_AUTHINFO_UNAVAIL, bob.describe());
  BOOST_TEST(bob.logged("failmode=recovery, but bob has no recovery code left"));
}

// Logins racing for one code, in separate processes with their own
// connections to the file, released at once: exactly one uses it.
BOOST_AUTO_TEST_CASE(processes_racing_for_one_code_let_one_in) {
  issue_codes("alice", 1);
  const auto id = otp::store::open_sqlite_store(pam.state_path())->recovery_codes("alice")->codes.at(0).id;
  const std::string go = pam.dir() + "/go";
  std::vector<pid_t> workers;
  for (int i = 0; i < 8; ++i)
    workers.push_back(spawn_process({PAM_OTP_STATE_WORKER_PATH, "use", pam.state_path(), "alice", std::to_string(id), go},
                                    nss_only_environment(), "", ""));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // most have opened the file and wait
  std::ofstream(go).put('\n');
  int winners = 0, errors = 0;
  for (pid_t worker : workers) {
    int status = 0;
    BOOST_REQUIRE(worker > 0);
    ::waitpid(worker, &status, 0);
    winners += WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : 0;
    errors += !WIFEXITED(status) || WEXITSTATUS(status) > 1 ? 1 : 0;
  }
  BOOST_TEST(winners == 1);
  BOOST_TEST(errors == 0);
}

BOOST_AUTO_TEST_CASE(remembered_for_the_same_client_until_it_expires) {
  config("remember = 3600\nremember_services = [\"" + pam.service + "\"]");
  BOOST_REQUIRE(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).rc == PAM_SUCCESS);
  const auto before = sends();
  const auto hit = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST(hit.rc == PAM_SUCCESS, hit.describe());
  BOOST_TEST(hit.logged("result=remembered user=alice"));
  BOOST_TEST(sends() == before);
  pam.rhost = "198.51.100.9";  // another client
  const auto miss = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(miss.logged("result=success"));
  BOOST_TEST(sends() == before + 1);
  pam.rhost = "203.0.113.5";
  sql(pam.state_path(), "UPDATE remembered SET expires_at = strftime('%s','now') - 1");  // an hour later
  const auto expired = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(expired.logged("result=success"));
}

BOOST_AUTO_TEST_CASE(never_remembered_for_services_not_listed_nor_local_logins) {
  config("remember = 3600");  // remember_services: sshd only
  BOOST_REQUIRE(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).rc == PAM_SUCCESS);
  BOOST_TEST(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).logged("result=success"));
  config("remember = 3600\nremember_services = [\"" + pam.service + "\"]");
  pam.rhost = "";
  BOOST_REQUIRE(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).rc == PAM_SUCCESS);
  BOOST_TEST(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).logged("result=success"));
}

// With sshd's UseDNS yes PAM_RHOST is a host name, which whoever controls
// the client's DNS zone can make match: only IP addresses are remembered.
BOOST_AUTO_TEST_CASE(a_host_name_is_never_remembered) {
  config("remember = 3600\nremember_services = [\"" + pam.service + "\"]");
  pam.rhost = "bastion.corp.example";
  BOOST_REQUIRE(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).rc == PAM_SUCCESS);
  const auto again = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(again.rc == PAM_SUCCESS, again.describe());
  BOOST_TEST(again.logged("result=success"));
  BOOST_TEST(otp::store::open_sqlite_store(pam.state_path())->remembered("", std::time(nullptr)).empty());
  pam.rhost = "2001:db8::7";  // an IPv6 address is
  BOOST_REQUIRE(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).rc == PAM_SUCCESS);
  BOOST_TEST(pam.authenticate("alice", {say("alice-password")}).logged("result=remembered"));
}

// One account behind a NAT or bastion must not spend the address's whole
// budget (rhost 20/1h by default) and lock everyone else there out: with the
// default limits one user sends at most 5 an hour from one address.
BOOST_AUTO_TEST_CASE(one_user_cannot_spend_an_addresss_whole_budget) {
  pam.default_send_limit = true;
  config("");
  pam.rhost = "198.51.100.7";
  {  // alice sent 15 codes from there in the last hour, none in the last 15 minutes
    auto store = otp::store::open_sqlite_store(pam.state_path());
    const std::string address = otp::store::keyed_hash(store->hash_key(), "rhost", pam.rhost);
    const std::int64_t now = std::time(nullptr);
    for (int i = 0; i < 15; ++i)
      BOOST_REQUIRE(!store->take({{otp::store::kSendUser, "alice", 100, 900},
                                  {otp::store::kSendRhost, address, 100, 3600},
                                  {otp::store::kSendUserRhost, otp::store::user_rhost_key(address, "alice"), 100, 3600}},
                                 now - 3000 + 120 * i));
  }
  for (int i = 0; i < 5; ++i) {
    const auto alice = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
    BOOST_TEST_INFO(alice.describe());
    BOOST_TEST(alice.rc == PAM_MAXTRIES);
    BOOST_TEST(alice.logged("send_limit.user_rhost 5/1h reached for alice from 198.51.100.7"));
  }
  const auto bob = pam.authenticate("bob", {say("bob-password"), code_for("bob@example.com")});
  BOOST_TEST_INFO(bob.describe());
  BOOST_TEST(bob.rc == PAM_SUCCESS);
}

// Without recovery codes a typed one still counts as a try and reads as a
// wrong code; and where one may be typed the code prompt is never echoed.
BOOST_AUTO_TEST_CASE(recovery_codes_tell_nothing_and_are_never_echoed) {
  config("recovery = \"always\"\necho_code = true");
  for (int i = 0; i < 2; ++i) {
    const auto r = pam.authenticate("alice", {say("alice-password"), say("abcd-efgh-jkmn"), say("abcd-efgh-jkmn"),
                                              say("abcd-efgh-jkmn")});
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_MAXTRIES);
    BOOST_REQUIRE(r.echo.size() == 4u);
    BOOST_TEST(r.echo[1] == false);
    BOOST_TEST(r.errors.front() == "Incorrect code, 2 attempts left.");
  }
  const auto locked = pam.authenticate("alice", {say("alice-password"), say("abcd-efgh-jkmn")});
  BOOST_TEST(locked.rc == PAM_MAXTRIES);
  BOOST_TEST(locked.logged("recovery locked"), locked.describe());
}

BOOST_AUTO_TEST_CASE(the_send_limit_holds_across_logins) {
  config("send_limit = { user = \"2/15m\", rhost = \"20/1h\" }");
  for (int i = 0; i < 2; ++i)
    BOOST_REQUIRE(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).rc == PAM_SUCCESS);
  const auto before = sends();
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(r.rc == PAM_MAXTRIES, r.describe());
  BOOST_TEST(r.errors.back() == "Too many codes were requested. Try again in 15 minutes.");
  BOOST_TEST(r.logged("result=send_limited"));
  BOOST_TEST(r.logged("send_limit.user 2/15m reached for alice"));
  BOOST_TEST(sends() == before);
  BOOST_TEST(pam.authenticate("bob", {say("bob-password"), code_for("bob@example.com")}).rc == PAM_SUCCESS);
}

BOOST_AUTO_TEST_CASE(su_in_caller_mode_sends_the_callers_code) {
  if (::getuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: caller mode trusts PAM_RUSER only for the process's real uid or root, and bob is "
                       "not this user (CI runs as root)");
    return;
  }
  config("destination_user = \"caller\"\ncaller_services = [\"" + pam.service + "\"]");
  pam.ruser = "bob";
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for("bob@example.com")});
  BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());
  BOOST_TEST(r.logged("result=success user=alice caller=bob"));
  BOOST_TEST(r.logged("channel=email"));
}

// A writer killed at any moment leaves a database that opens, passes
// SQLite's integrity check and holds whole transactions only (take()
// writes one row per limit: the two counts stay equal).
BOOST_AUTO_TEST_CASE(sigkill_during_writes_leaves_a_consistent_store) {
  auto store = otp::store::open_sqlite_store(pam.state_path());
  for (int round = 0; round < 8; ++round) {
    const int before = store->count("send_rhost", "r", 0);
    const pid_t worker = spawn_process({PAM_OTP_STATE_WORKER_PATH, "take", pam.state_path()}, nss_only_environment(),
                                       "", "");
    BOOST_REQUIRE(worker > 0);
    // Once it is writing, a little more, then the kill.
    for (int i = 0; i < 6000 && store->count("send_rhost", "r", 0) == before; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(3 * round));
    ::kill(worker, SIGKILL);
    int status = 0;
    ::waitpid(worker, &status, 0);
    BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL), "the worker failed before the kill");
  }
  const int users = store->count("send_user", "alice", 0), rhosts = store->count("send_rhost", "r", 0);
  BOOST_TEST(users > 0);
  BOOST_TEST(users == rhosts);
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(pam.state_path().c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  BOOST_TEST(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "ok");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

BOOST_AUTO_TEST_SUITE_END()

// The same state through the state service (state-helper --serve), as a
// machine that runs pam-otp-state.socket has it.
BOOST_FIXTURE_TEST_SUITE(state_service, Fixture)

BOOST_AUTO_TEST_CASE(logins_keep_their_state_through_the_service) {
  const std::string socket = pam.dir() + "/run/state.sock";
  StateServiceProcess service(pam.state_path(), socket);
  config("debug = true\nstate_service = \"" + socket + "\"\nremember = 3600\nremember_services = [\"" + pam.service + "\"]\nsend_limit = { user = \"2/15m\" }");
  const auto first = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(first.rc == PAM_SUCCESS, first.describe());
  BOOST_TEST(first.logged("state: through the state service at " + socket));
  BOOST_TEST(!first.logged("not using the state service"));
  // What it cost, for whoever looks for a slow login's time (bench/run
  // too); sent ahead, while the HTTP plugin loaded.
  BOOST_TEST(first.logged_at(LOG_DEBUG, "state: send limits checked in the state store ("));
  BOOST_TEST(first.logged(" ms of CPU; sent ahead)"));
  // Remembered: the second login from the same address asks no code.
  const auto second = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST(second.rc == PAM_SUCCESS, second.describe());
  BOOST_TEST(second.logged("result=remembered"));
  pam.rhost = "203.0.113.6";
  BOOST_TEST(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).rc == PAM_SUCCESS);
  pam.rhost = "203.0.113.7";
  const auto limited = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(limited.rc == PAM_MAXTRIES, limited.describe());
  BOOST_TEST(limited.logged("send_limit.user 2/15m reached for alice"));
  // In the file itself, as any other process reads it.
  BOOST_TEST(otp::store::open_sqlite_store(pam.state_path())->count(otp::store::kSendUser, "alice", 0) == 2);
  BOOST_TEST(otp::store::open_sqlite_store(pam.state_path())->remembered("alice", std::time(nullptr)).size() == 2u);
}

// A service that keeps another file (another configuration's) is not used,
// and the log says so; the login counts in its own file.
BOOST_AUTO_TEST_CASE(a_service_that_keeps_another_file_is_passed_by) {
  const std::string socket = pam.dir() + "/run/state.sock";
  StateServiceProcess service(pam.dir() + "/other/state.db", socket);
  config("state_service = \"" + socket + "\"\nsend_limit = { user = \"2/15m\" }");
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());
  BOOST_TEST(r.logged_at(LOG_WARNING, "state: not using the state service: the state service at " + socket +
                                          " keeps " + pam.dir() + "/other/state.db, not " + pam.state_path()));
  BOOST_TEST(otp::store::open_sqlite_store(pam.state_path())->count(otp::store::kSendUser, "alice", 0) == 1);
}

// No service at the configured socket (the default on a machine without
// one): the login opens the file itself and says nothing about it.
BOOST_AUTO_TEST_CASE(no_service_is_no_news) {
  config("state_service = \"" + pam.dir() + "/run/state.sock\"\nsend_limit = { user = \"2/15m\" }");
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());
  BOOST_TEST(!r.logged("state"));
  BOOST_TEST(otp::store::open_sqlite_store(pam.state_path())->count(otp::store::kSendUser, "alice", 0) == 1);
}

// The service stopped after the login connected: the send cannot be
// counted, and a root login goes on without its state (one LOG_ERR), as
// with a file that cannot be written.
BOOST_AUTO_TEST_CASE(a_service_gone_mid_login_is_a_store_failure) {
  const std::string socket = pam.dir() + "/run/state.sock";
  StateServiceProcess service(pam.state_path(), socket);
  config("state_service = \"" + socket + "\"\nremember = 3600\nremember_services = [\"" + pam.service + "\"]\nsend_limit = { user = \"2/15m\" }");
  otp::mock::Fault slow;  // the login waits for its send; the service is stopped meanwhile
  slow.delay_ms = 1000;
  Shared::mock().set_fault(slow);
  std::thread stopper([&] {  // once the send has reached the mock: its count went through the service
    const auto deadline = std::chrono::steady_clock::now() + within(std::chrono::milliseconds(20000));
    while (sends() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    service.stop();
  });
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  stopper.join();
  BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());
  BOOST_TEST(r.logged_at(LOG_ERR, "state: "));
  BOOST_TEST(r.logged("the state service at " + socket));
}

BOOST_AUTO_TEST_SUITE_END()
