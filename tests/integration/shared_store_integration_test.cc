// The shared store (state_store) through real libpam (pam_wrapper,
// pam_matrix, pam_otp.so and its plugin pam_otp/pgstore.so), a real
// PostgreSQL 15 over TLS with scram-sha-256, and the real pam-otp command:
// its schema made by `pam-otp state init`, recovery codes issued by
// `pam-otp recovery issue`, and logins when the database is down or frozen.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "child_process.h"
#include "pam_harness.h"
#include "postgres_server.h"
#include "store/pg_plugin.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "temp_dir.h"
#include "time_bound.h"

using namespace otp::testing;

namespace {

const char* kAlicePhone = "+15551234567";

void write_private(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0600);
}

PostgresServer& server() {
  static PostgresServer s;
  return s;
}

struct Fixture {
  PamHarness pam;
  std::string skip, db;

  Fixture() {
    pam.rhost = "203.0.113.5";
    if (auto why = PostgresServer::unavailable()) {
      skip = *why;
      return;
    }
    db = "shared" + std::to_string(++count());
    server().sql("CREATE DATABASE " + db);
    server().ensure_login_role();
  }
  static int& count() {
    static int n = 0;
    return n;
  }
  bool skipped() const {
    if (!skip.empty()) BOOST_TEST_MESSAGE("skipped: " << skip);
    return !skip.empty();
  }
  std::string password_file() const {
    const std::string path = pam.dir() + "/db-password";
    if (!std::filesystem::exists(path)) write_private(path, PostgresServer::login_password() + "\n");
    return path;
  }
  // The config's state_store lines, with `top`.
  void config(const std::string& top) {
    pam.write_config(pam.default_config("state_store = \"" + server().uri("pam_otp_login", db) +
                                        "\"\nstate_password_file = \"" + password_file() + "\"\n" + top));
  }
  int cli(const std::string& args, std::string* output = nullptr) const {
    std::vector<std::string> more;
    for (const auto& arg : pam.slow_build_arguments()) more.insert(more.end(), {"--arg", arg});
    const CommandResult r = run_pam_otp(args, more);
    BOOST_TEST_MESSAGE("$ pam-otp " << args << "\n" << r.output);
    if (output != nullptr) *output = r.output;
    return r.status;
  }
  void init_with_config(const std::string& top) {
    config(top);
    init();
  }
  // `pam-otp state init` as the database's superuser, granting the login role.
  void init(const std::string& more = "") {
    const std::string admin_password = pam.dir() + "/admin-password";
    write_private(admin_password, std::string(server().admin().password.reveal()) + "\n");
    std::string out;
    BOOST_REQUIRE_EQUAL(cli("state init --config " + pam.config_path() + " --store " +
                                server().uri("postgres", db) + " --password-file " + admin_password +
                                " --grant-admin pam_otp_admin" + more,
                            &out),
                        0);
    BOOST_TEST(out.find("Created pam_otp's schema (version 1)") != std::string::npos, out);
    BOOST_TEST(out.find("Granted pam_otp_login what a login needs, and no more") != std::string::npos, out);
    BOOST_TEST(out.find("Granted pam_otp_admin an administrator's rights") != std::string::npos, out);
  }
  // pam-otp's options to act as the administrator's role.
  std::string as_admin() const {
    const std::string path = pam.dir() + "/admin-role-password";
    write_private(path, PostgresServer::login_password() + "\n");
    return " --store " + server().uri(PostgresServer::kAdminRole, db) + " --password-file " + path;
  }
  std::unique_ptr<otp::store::Store> shared() const {
    return otp::store::open_pg_store(server().store_admin(db), std::chrono::seconds(10));
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(shared_store, Fixture)

// Logins keep their state in the database, and never open the local file.
BOOST_AUTO_TEST_CASE(logins_keep_remembered_logins_and_counts_in_the_database) {
  if (skipped()) return;
  config("debug = true\nremember = 3600\nremember_services = [\"" + pam.service + "\"]\nsend_limit = { user = \"2/15m\" }");
  init();
  const auto first = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(first.rc == PAM_SUCCESS, first.describe());
  BOOST_TEST(first.logged_at(LOG_DEBUG, "state: send limits checked in the shared store ("));
  const auto second = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST(second.rc == PAM_SUCCESS, second.describe());
  BOOST_TEST(second.logged("result=remembered"));
  pam.rhost = "203.0.113.6";
  BOOST_TEST(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).rc == PAM_SUCCESS);
  pam.rhost = "203.0.113.7";
  const auto limited = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(limited.rc == PAM_MAXTRIES, limited.describe());
  BOOST_TEST(limited.logged("send_limit.user 2/15m reached for alice"));
  BOOST_TEST(shared()->count(otp::store::kSendUser, "alice", 0) == 2);
  BOOST_TEST(!std::filesystem::exists(pam.state_path()));
}

// A recovery code issued with pam-otp (into the database) works once.
BOOST_AUTO_TEST_CASE(a_recovery_code_from_pam_otp_works_once) {
  if (skipped()) return;
  config("recovery = \"always\"");
  init();
  std::string out;
  // The hosts' login role may not give anyone codes for the whole fleet.
  BOOST_TEST(cli("recovery issue alice --count 2 --config " + pam.config_path(), &out) == 1);
  BOOST_TEST(out.find("refused pam_otp_login an administrator's function") != std::string::npos, out);
  BOOST_TEST(out.find("--grant-admin") != std::string::npos, out);
  BOOST_TEST(!shared()->recovery_codes("alice").has_value());
  BOOST_REQUIRE_EQUAL(cli("recovery issue alice --count 2 --config " + pam.config_path() + as_admin(), &out), 0);
  std::smatch m;
  BOOST_REQUIRE(std::regex_search(out, m, std::regex("[a-z]{4}-[a-z]{4}-[a-z]{4}")));
  const std::string code = m.str();
  const auto used = pam.authenticate("alice", {say("alice-password"), say(code)});
  BOOST_TEST(used.rc == PAM_SUCCESS, used.describe());
  BOOST_TEST(used.logged("result=recovery_code"));
  const auto again = pam.authenticate("alice", {say("alice-password"), say(code), code_for(kAlicePhone)});
  BOOST_TEST(again.rc == PAM_SUCCESS, again.describe());
  BOOST_TEST(!again.logged("result=recovery_code"));  // the code sent did it
  BOOST_REQUIRE_EQUAL(cli("recovery list alice --config " + pam.config_path(), &out), 0);
  BOOST_TEST(out.find("1 of 2 recovery codes left") != std::string::npos, out);
}

// The database down: the login goes on without it, counting in the local
// file, and says so; back up: the shared state again, nothing lost.
BOOST_AUTO_TEST_CASE(a_database_that_is_down_costs_the_shared_state_not_the_login) {
  if (skipped()) return;
  config("remember = 3600\nremember_services = [\"" + pam.service + "\"]\nsend_limit = { user = \"5/15m\" }");
  init();
  BOOST_TEST(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).rc == PAM_SUCCESS);
  server().stop();
  const auto down = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  server().start();
  BOOST_TEST(down.rc == PAM_SUCCESS, down.describe());  // asked for a code: not remembered
  BOOST_TEST(down.logged_at(LOG_ERR, "the send limit is counted in the local state file"));
  BOOST_TEST(otp::store::open_sqlite_store(pam.state_path())->count(otp::store::kSendUser, "alice", 0) == 1);
  const auto back = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST(back.rc == PAM_SUCCESS, back.describe());
  BOOST_TEST(back.logged("result=remembered"));
  BOOST_TEST(shared()->count(otp::store::kSendUser, "alice", 0) == 1);
}

// A database that accepts and then says nothing costs a login at most
// store_timeout (plus the login's own work).
BOOST_AUTO_TEST_CASE(a_frozen_database_costs_a_login_at_most_store_timeout) {
  if (skipped()) return;
  config("store_timeout = 0.5\nsend_limit = { user = \"5/15m\" }");
  init();
  server().freeze();
  const auto start = std::chrono::steady_clock::now();
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  server().thaw();
  BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());
  BOOST_TEST(r.logged("budget"));
  BOOST_TEST(took.count() < within(std::chrono::milliseconds(500)).count());
}

// A host that kept its state in its file moves to the shared store: the
// schema made with its key, its state copied by pam-otp state migrate
// (twice: nothing doubled), and its remembered login honoured from there.
BOOST_AUTO_TEST_CASE(a_host_moves_its_state_into_the_shared_store) {
  if (skipped()) return;
  const std::string top = "remember = 3600\nremember_services = [\"" + pam.service + "\"]\nsend_limit = { user = \"5/15m\" }\n"
                          "state_file = \"" + pam.state_path() + "\"";
  pam.write_config(pam.default_config(top));  // no shared store yet
  BOOST_TEST(pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)}).rc == PAM_SUCCESS);
  std::string out;
  BOOST_REQUIRE_EQUAL(cli("recovery issue bob --count 3 --config " + pam.config_path(), &out), 0);
  config(top);
  init(" --key-from " + pam.state_path());
  BOOST_REQUIRE_EQUAL(cli("state migrate --config " + pam.config_path() + as_admin(), &out), 0);
  BOOST_TEST(out.find("recovery codes: 1 users copied") != std::string::npos, out);
  BOOST_TEST(out.find("remembered logins: 1 copied") != std::string::npos, out);
  BOOST_TEST(out.find("send and recovery counts: 1 copied") != std::string::npos, out);
  BOOST_REQUIRE_EQUAL(cli("state migrate --config " + pam.config_path() + as_admin(), &out), 0);
  BOOST_TEST(out.find("send and recovery counts: 0 copied, 1 already there") != std::string::npos, out);
  std::filesystem::remove(pam.state_path());  // from now on, only the database has it
  const auto remembered = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST(remembered.rc == PAM_SUCCESS, remembered.describe());
  BOOST_TEST(remembered.logged("result=remembered"));
  BOOST_TEST(shared()->count(otp::store::kSendUser, "alice", 0) == 1);
  BOOST_TEST(shared()->recovery_codes("bob")->codes.size() == 3u);
  // A file that is not there: an error naming it (conflicts: migrate_test.cc).
  BOOST_REQUIRE_EQUAL(cli("state migrate --config " + pam.config_path() + as_admin() + " --from " + pam.dir() + "/state/none.db", &out), 1);
  BOOST_TEST(out.find("none.db") != std::string::npos, out);
}

// The store's errors cross from the plugin into the module as their own
// types: a count that went out unanswered is MayHaveRun there too, so the
// module does not count it again.
BOOST_AUTO_TEST_CASE(the_plugins_errors_keep_their_types_in_the_module) {
  if (skipped()) return;
  config("");
  init();
  const std::string module = PAM_OTP_MODULE_PATH;
  auto store = otp::store::plugin_pg_store(module.substr(0, module.rfind('/')) + "/pam_otp/pgstore.so",
                                           server().login("pam_otp_login", PostgresServer::login_password(), db),
                                           within(std::chrono::milliseconds(400)));  // (valgrind: TLS and SCRAM are slow)
  store->hash_key();
  server().freeze();
  bool may_have_run = false;
  try {
    store->take({{otp::store::kSendUser, "alice", 5, 900}}, 1000);
  } catch (const otp::store::MayHaveRun&) {
    may_have_run = true;
  } catch (const std::exception& e) {
    BOOST_TEST_MESSAGE("caught as something else: " << e.what());
  }
  server().thaw();
  BOOST_TEST(may_have_run);
}

// Processes counting in the database (two rows a call), killed with
// SIGKILL at any moment: no call is half there, and nobody waits for a lock
// they held.
BOOST_AUTO_TEST_CASE(sigkill_mid_count_leaves_no_partial_state_and_no_lock) {
  if (skipped()) return;
  config("");
  init();
  std::vector<pid_t> workers;
  for (int i = 0; i < 3; ++i)
    workers.push_back(spawn_process({PAM_OTP_STATE_WORKER_PATH, "pg-take", "127.0.0.1", std::to_string(server().port()),
                                     server().ca_file(), db, password_file()},
                                    nss_only_environment(), "", ""));
  for (int round = 0; round < 5; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + 37 * round));
    ::kill(workers[round % 3], SIGKILL);
    int status = 0;
    waitpid(workers[round % 3], &status, 0);
    BOOST_TEST(WIFSIGNALED(status), "the worker had stopped by itself: " << status);
    workers[round % 3] = spawn_process({PAM_OTP_STATE_WORKER_PATH, "pg-take", "127.0.0.1",
                                        std::to_string(server().port()), server().ca_file(), db, password_file()},
                                       nss_only_environment(), "", "");
  }
  for (pid_t w : workers) {
    ::kill(w, SIGKILL);
    waitpid(w, nullptr, 0);
  }
  auto store = shared();
  const int users = store->count(otp::store::kSendUser, "alice", 0);
  BOOST_TEST(users > 0);
  BOOST_TEST(store->count(otp::store::kSendRhost, "r", 0) == users);  // both rows of every call, or neither
  const auto start = std::chrono::steady_clock::now();
  auto fresh = otp::store::open_pg_store(server().login("pam_otp_login", PostgresServer::login_password(), db),
                                         std::chrono::milliseconds(1000));
  BOOST_TEST(!fresh->take({{otp::store::kSendUser, "alice", 1 << 30, 86400}}, 1'800'000'000));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  BOOST_TEST(took.count() < within(std::chrono::milliseconds(1000)).count());
}

// A process stopped (SIGSTOP, as su's caller can) while it counts holds no
// lock that another login then waits on: each of ten counts on the same
// keys goes through within its budget while it stays stopped.
BOOST_AUTO_TEST_CASE(a_stopped_login_holds_no_lock_others_wait_on) {
  if (skipped()) return;
  config("");
  init();
  for (int round = 0; round < 10; ++round) {
    const pid_t worker = spawn_process({PAM_OTP_STATE_WORKER_PATH, "pg-take", "127.0.0.1", std::to_string(server().port()),
                                        server().ca_file(), db, password_file()},
                                       nss_only_environment(), "", "");
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 13 * round));
    ::kill(worker, SIGSTOP);
    auto other = otp::store::open_pg_store(server().login("pam_otp_login", PostgresServer::login_password(), db),
                                           std::chrono::milliseconds(1000));
    std::string error;
    try {
      other->take({{otp::store::kSendUser, "alice", 1 << 30, 86400}, {otp::store::kSendRhost, "r", 1 << 30, 86400}},
                  1'700'000'000 + round);
    } catch (const std::exception& e) {
      error = e.what();
    }
    BOOST_TEST(error.empty(), "round " << round << ": " << error);
    ::kill(worker, SIGKILL);
    waitpid(worker, nullptr, 0);
  }
  BOOST_TEST(shared()->count(otp::store::kSendRhost, "r", 0) == shared()->count(otp::store::kSendUser, "alice", 0));
}

// libpq is loaded only by a login that uses the shared store: not by one
// pam_otp does not cover, nor by one that needs no state (otp-login, a
// process of its own, says what it has mapped).
BOOST_AUTO_TEST_CASE(only_a_login_that_uses_the_shared_store_loads_libpq) {
  if (skipped()) return;
  auto libpq_mapped = [&](const std::string& top) {
    config(top);
    pam.write_stack();
    std::vector<std::string> env;
    for (const auto& var : nss_only_environment())
      if (var.rfind("LD_PRELOAD=", 0) != 0) env.push_back(var);
    env.push_back(std::string("LD_PRELOAD=") + std::getenv("LD_PRELOAD"));
    for (const char* var : {"PAM_WRAPPER", "PAM_WRAPPER_RUNTIME_DIR", "PAM_WRAPPER_DEBUGLEVEL"})
      if (const char* value = std::getenv(var)) env.push_back(std::string(var) + "=" + value);
    env.push_back(std::string("PAM_WRAPPER_SERVICE_DIR=") + std::getenv("PAM_WRAPPER_RUNTIME_DIR"));
    env.push_back("OTP_LOGIN_TIMES=1");
    env.push_back("OTP_LOGIN_RHOST=203.0.113.5");
    const std::string out = pam.dir() + "/login.out";
    const pid_t pid = spawn_process({PAM_OTP_LOGIN_PATH, pam.service, "alice", "alice-password", pam.mock_url(),
                                     Shared::pki().ca_cert, kAlicePhone},
                                    env, "", out);
    BOOST_REQUIRE(pid > 0);
    int status = 0;
    waitpid(pid, &status, 0);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), read_file(out));
    std::smatch m;
    const std::string text = read_file(out);
    BOOST_REQUIRE_MESSAGE(std::regex_search(text, m, std::regex("login [0-9]+ [0-9-]+ [0-9]+ ([01]) ([01])")), text);
    return m.str(2) == "1";
  };
  init_with_config("");
  BOOST_TEST(libpq_mapped("send_limit = { user = \"5/15m\" }"));
  BOOST_TEST(!libpq_mapped("send_limit = { user = \"5/15m\" }\nexempt_services = [\"" + pam.service + "\"]"));
  BOOST_TEST(!libpq_mapped("send_limit = {}"));
}

// An encrypted client key for the store is a configuration error at load,
// naming the line, before anything is sent: a login has nobody to type its
// passphrase (and libpq would otherwise ask at every login).
BOOST_AUTO_TEST_CASE(an_encrypted_client_key_is_refused_at_load) {
  if (skipped()) return;
  const std::string key = pam.dir() + "/client.key";
  write_private(key, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n");
  const std::string cert = pam.dir() + "/client.pem";
  write_private(cert, "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
  const std::size_t sent = Shared::mock().outbox().size();
  pam.write_config(pam.default_config("state_store = \"" + server().uri("pam_otp_cert", db) + "&sslcert=" + cert +
                                      "&sslkey=" + key + "\""));
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for(kAlicePhone)});
  BOOST_TEST(r.rc == PAM_SERVICE_ERR, r.describe());
  BOOST_TEST(r.logged(pam.config_path() + ":"));
  BOOST_TEST(r.logged("sslkey '" + key + "' is encrypted"));
  BOOST_TEST(Shared::mock().outbox().size() == sent);
}

// pam-otp check reaches the store as a login would and says what it found:
// before state init, that the role cannot run pam_otp's functions; after,
// how it connected, the schema version and the role's rights.
BOOST_AUTO_TEST_CASE(check_reports_tls_authentication_schema_and_rights) {
  if (skipped()) return;
  config("");
  std::string out;
  cli("check --config " + pam.config_path(), &out);
  BOOST_TEST(out.find("pam_otp_login cannot run 6 of pam_otp's 6 functions a login calls") != std::string::npos, out);
  init();
  cli("check --config " + pam.config_path(), &out);
  BOOST_TEST(out.find("shared store postgresql://pam_otp_login@127.0.0.1:" + std::to_string(server().port()) + "/" + db +
                      ": PostgreSQL 15.") != std::string::npos, out);
  BOOST_TEST(out.find(", TLS TLSv1.3, password; schema version 1; 6 of 6 login functions executable, 0 administrator's, "
                      "0 rights on tables") != std::string::npos, out);
  // A login role that may also do an administrator's work is told so.
  server().sql("GRANT EXECUTE ON FUNCTION pam_otp.set_recovery_codes_v1(text,text,text[],bigint) TO pam_otp_login", db);
  cli("check --config " + pam.config_path(), &out);
  BOOST_TEST(out.find("pam_otp_login may also run 1 of an administrator's functions (first "
                      "pam_otp.set_recovery_codes_v1(text,text,text[],bigint))") != std::string::npos, out);
  // A role with rights it does not need is told so.
  server().sql("GRANT SELECT ON pam_otp.recovery_codes TO pam_otp_login", db);
  cli("check --config " + pam.config_path(), &out);
  BOOST_TEST(out.find("has rights a login does not need on pam_otp's tables (recovery_codes: SELECT)") != std::string::npos, out);
  // A wrong password: an error naming the server, never the password.
  write_private(password_file(), "wrong-password\n");
  cli("check --config " + pam.config_path(), &out);
  BOOST_TEST(out.find("password authentication failed for user \"pam_otp_login\"") != std::string::npos, out);
  BOOST_TEST(out.find("wrong-password") == std::string::npos, out);
}

BOOST_AUTO_TEST_SUITE_END()
