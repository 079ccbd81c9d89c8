// The shared store's own behaviour against a real PostgreSQL 15, beyond
// the Store contract (store_contract_test.cc): what it refuses, how long it
// waits, what an outage looks like.
#include "store/pg_store.h"

#include <boost/test/unit_test.hpp>

#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <thread>

#include "postgres_server.h"
#include "store/pg_admin.h"
#include "temp_dir.h"
#include "time_bound.h"

namespace otp::store {
namespace {

using std::chrono::milliseconds;

testing::PostgresServer& server() {
  static testing::PostgresServer s;
  return s;
}

struct Fixture {
  Fixture() {
    if (auto why = testing::PostgresServer::unavailable()) skip = *why;
    else db = server().new_store_database();
  }
  // As pam_otp_admin, who may call every function.
  std::unique_ptr<Store> open(milliseconds budget = milliseconds(10000)) const {
    return open_pg_store(server().store_admin(db), budget);
  }
  // As pam_otp_login, who may do what a login does.
  std::unique_ptr<Store> open_login(milliseconds budget = milliseconds(10000)) const {
    return open_pg_store(server().login("pam_otp_login", testing::PostgresServer::login_password(), db), budget);
  }
  bool skipped() const {
    if (!skip.empty()) BOOST_TEST_MESSAGE("skipped: " << skip);
    return !skip.empty();
  }
  std::string skip, db;
};

long long ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start).count();
}

// Another session holding send_user/alice's counting lock in an open
// transaction (as take_v1 derives it), as a host stuck mid-call would.
class LockHolder {
 public:
  explicit LockHolder(const std::string& db)
      : deadline_(PgClock::now() + std::chrono::seconds(10)), c_(server().admin(db), deadline_) {
    c_.run("BEGIN", {}, deadline_);
    c_.run("SELECT pg_advisory_xact_lock(('x' || substr(md5('send_user' || chr(1) || 'alice'), 1, 16))::bit(64)::bigint)",
           {}, deadline_);
  }
  void release() { c_.run("ROLLBACK", {}, deadline_); }

 private:
  PgClock::time_point deadline_;
  PgConnection c_;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(pg_store, Fixture)

BOOST_AUTO_TEST_CASE(a_wrong_password_is_an_error_that_names_the_server_not_the_password) {
  if (skipped()) return;
  const std::string e = error_of([&] {
    open_pg_store(server().login("pam_otp_login", "not-the-password", db), milliseconds(10000))->hash_key();
  });
  BOOST_TEST(e.find("password authentication failed") != std::string::npos, e);
  BOOST_TEST(e.find("127.0.0.1") != std::string::npos, e);
  BOOST_TEST(e.find("not-the-password") == std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(a_server_certificate_from_another_ca_is_refused) {
  if (skipped()) return;
  PgConnectOptions o = server().login("pam_otp_login", testing::PostgresServer::login_password(), db);
  o.target.sslrootcert = server().dir() + "/pki/untrusted.pem";  // a self-signed CA that did not sign it
  const std::string e = error_of([&] { open_pg_store(o, milliseconds(10000))->hash_key(); });
  BOOST_TEST(e.find("certificate verify failed") != std::string::npos, e);
}

// A server whose certificate, from the trusted CA, names another host.
BOOST_AUTO_TEST_CASE(a_certificate_for_another_host_name_is_refused) {
  if (skipped()) return;
  testing::PostgresOptions options;
  options.wrong_host_certificate = true;
  testing::PostgresServer other(options);
  const std::string e = error_of([&] { open_pg_store(other.admin(), milliseconds(10000))->hash_key(); });
  BOOST_TEST(e.find("server certificate for \"wrong.example\"") != std::string::npos, e);
  BOOST_TEST(e.find("does not match host name \"127.0.0.1\"") !=
             std::string::npos, e);
}

// A client certificate from the server's CA, for the role it names: no
// password; an encrypted key is refused at once (never a prompt).
BOOST_AUTO_TEST_CASE(a_client_certificate_logs_in_without_a_password) {
  if (skipped()) return;
  server().sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pam_otp_cert') THEN "
               "CREATE ROLE pam_otp_cert LOGIN; END IF; END $$");
  server().sql("GRANT pam_otp_login TO pam_otp_cert");  // (the functions' EXECUTE, through the login role)
  testing::TempDir dir;
  const std::string pki = server().dir() + "/pki";
  const std::string cmd = "cd " + dir.path() +
                          " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key"
                          " -out client.csr -subj /CN=pam_otp_cert 2>/dev/null"
                          " && openssl x509 -req -in client.csr -CA " + pki + "/ca.pem -CAkey " + pki +
                          "/ca.key -CAcreateserial -out client.pem -days 1 2>/dev/null"
                          " && openssl pkey -in client.key -aes256 -passout pass:secret -out encrypted.key 2>/dev/null"
                          " && chmod 600 client.key encrypted.key";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  PgConnectOptions o = server().login("pam_otp_cert", "", db);
  o.password = Secret();
  o.target.sslcert = dir.path() + "/client.pem";
  o.target.sslkey = dir.path() + "/client.key";
  auto store = open_pg_store(o, milliseconds(10000));
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1000));
  BOOST_TEST(open()->count(kSendUser, "alice", 0) == 1);
  o.target.sslkey = dir.path() + "/encrypted.key";
  const auto start = std::chrono::steady_clock::now();
  const std::string e = error_of([&] { open_pg_store(o, milliseconds(10000))->hash_key(); });
  BOOST_TEST(!e.empty());
  BOOST_TEST(e.find("private key") != std::string::npos, e);
  BOOST_TEST(ms_since(start) < 5000, e);
}

// A Unix socket (the server's own system user checked): no TLS, no
// channel binding, and the store works.
BOOST_AUTO_TEST_CASE(a_unix_socket_works_without_tls) {
  if (skipped()) return;
  PgConnectOptions o = server().login("pam_otp_login", testing::PostgresServer::login_password(), db);
  o.target.hosts = {{server().dir(), server().port()}};
  o.target.sslmode = "disable";
  o.target.sslrootcert.clear();
  auto store = open_pg_store(o, milliseconds(10000));
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1000));
  BOOST_TEST(open()->count(kSendUser, "alice", 0) == 1);
  o.target.requirepeer = "root";  // the server is not root's
  const std::string e = error_of([&] { open_pg_store(o, milliseconds(10000))->hash_key(); });
  BOOST_TEST(e.find("requirepeer") != std::string::npos, e);
}

// One host whose clock runs weeks ahead does not prune the fleet's counts.
BOOST_AUTO_TEST_CASE(a_host_clock_far_ahead_prunes_nothing_of_the_present) {
  if (skipped()) return;
  auto store = open();
  const std::int64_t now = std::time(nullptr);
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, now));
  std::int64_t ahead = now + 40 * 86400;
  ahead -= ahead % 16;  // a second that prunes
  BOOST_TEST(!store->take({{kSendUser, "bob", 5, 900}}, ahead));
  BOOST_TEST(store->count(kSendUser, "alice", 0) == 1);
}

BOOST_AUTO_TEST_CASE(a_server_that_accepts_and_says_nothing_costs_the_budget) {
  if (skipped()) return;
  auto store = open(milliseconds(400));
  server().freeze();
  const auto start = std::chrono::steady_clock::now();
  const std::string e = error_of([&] { store->hash_key(); });
  const long long took = ms_since(start);
  server().thaw();
  BOOST_TEST(e.find("budget") != std::string::npos, e);
  BOOST_TEST(took >= 390);  // waited for it, not given up at once
  BOOST_TEST(took < testing::within(milliseconds(400)).count());
  // The rest of the budget is spent: the next call fails at once.
  BOOST_TEST(error_of([&] { store->count(kSendUser, "alice", 0); }).find("spent") != std::string::npos);
}

// A count sent to a server that then says nothing may have been made: the
// error says so (the login does not count it again elsewhere).
BOOST_AUTO_TEST_CASE(a_count_without_an_answer_may_have_run) {
  if (skipped()) return;
  auto store = open(milliseconds(400));
  store->hash_key();  // connected
  server().freeze();
  bool may_have_run = false;
  try {
    store->take({{kSendUser, "alice", 5, 900}}, 1000);
  } catch (const MayHaveRun&) {
    may_have_run = true;
  } catch (const Error&) {
  }
  server().thaw();
  BOOST_TEST(may_have_run);
  // One that never went out (nothing to connect to) did not run.
  auto unreachable = open_pg_store(server().login("pam_otp_login", "x", db), milliseconds(400));
  server().stop();
  bool plain_error = false;
  try {
    unreachable->take({{kSendUser, "alice", 5, 900}}, 1000);
  } catch (const MayHaveRun&) {
  } catch (const Error&) {
    plain_error = true;
  }
  server().start();
  BOOST_TEST(plain_error);
}

BOOST_AUTO_TEST_CASE(the_budget_is_for_all_calls_together) {
  if (skipped()) return;
  // The first call spends about three quarters of it waiting for a lock
  // another session holds (the server's lock_timeout, from what is left).
  LockHolder holder(db);
  auto store = open(milliseconds(1000));
  BOOST_TEST(error_of([&] { store->take({{kSendUser, "alice", 5, 900}}, 1000); }).find("lock timeout") != std::string::npos);
  holder.release();
  // The next call gets what is left (a quarter), not a budget of its own.
  server().freeze();
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(!error_of([&] { store->count(kSendUser, "alice", 0); }).empty());
  const long long took = ms_since(start);
  server().thaw();
  BOOST_TEST(took < 700, took);
}

BOOST_AUTO_TEST_CASE(another_schema_version_is_not_used_and_says_so) {
  if (skipped()) return;
  server().sql("DROP FUNCTION pam_otp.hash_key_v1()", db);  // as a database of another version would lack it
  const std::string e = error_of([&] { open()->hash_key(); });
  BOOST_TEST(e.find("no pam_otp schema of version 1") != std::string::npos, e);
  server().sql("UPDATE pam_otp.meta SET schema_version = 2", db);
  const std::string newer = error_of([&] { pg_init(server().admin(db), "", milliseconds(10000)); });
  BOOST_TEST(newer.find("newer than this pam-otp's") != std::string::npos, newer);
}

BOOST_AUTO_TEST_CASE(init_is_idempotent_keeps_the_key_and_grants_only_execute) {
  if (skipped()) return;
  const Secret key = open()->hash_key();
  const auto again = pg_init(server().admin(db), "pam_otp_login", milliseconds(10000));
  BOOST_TEST(again.found_version == 1);
  BOOST_TEST(!again.key_made);
  BOOST_TEST(open()->hash_key().reveal() == key.reveal());
  // The login role reaches the tables only through the functions.
  const auto direct = server().sql(
      "SELECT has_table_privilege('pam_otp_login', 'pam_otp.recovery_codes', 'SELECT'),"
      " has_table_privilege('pam_otp_login', 'pam_otp.events', 'INSERT'),"
      " has_function_privilege('pam_otp_login', 'pam_otp.take_v1(text[],text[],integer[],bigint[],bigint,integer)', 'EXECUTE'),"
      " has_function_privilege('public', 'pam_otp.take_v1(text[],text[],integer[],bigint[],bigint,integer)', 'EXECUTE'),"
      " has_function_privilege('pam_otp_login', 'pam_otp.set_recovery_codes_v1(text,text,text[],bigint)', 'EXECUTE'),"
      " has_function_privilege('pam_otp_admin', 'pam_otp.set_recovery_codes_v1(text,text,text[],bigint)', 'EXECUTE')",
      db);
  BOOST_REQUIRE(direct.size() == 1u);
  BOOST_TEST(*direct[0][0] == "f");
  BOOST_TEST(*direct[0][1] == "f");
  BOOST_TEST(*direct[0][2] == "t");
  BOOST_TEST(*direct[0][3] == "f");
  BOOST_TEST(*direct[0][4] == "f");  // an administrator's function: not a login's
  BOOST_TEST(*direct[0][5] == "t");
}

// A host's login role does what a login does: read and use a recovery
// code, remember, count a send. Giving codes, listing, counting for a
// report and forgetting are refused to it with words that say who may; a
// login role given more by hand is brought back by init --grant.
BOOST_AUTO_TEST_CASE(a_login_role_may_do_what_a_login_does_and_no_more) {
  if (skipped()) return;
  open()->set_recovery_codes("alice", "salt", {"h1"}, 1000);
  auto login = open_login();
  BOOST_TEST(login->hash_key().size() == 32u);
  BOOST_TEST(!login->take({{kSendUser, "alice", 5, 900}}, 1000));
  login->remember({"alice", "k", "sshd", 1000, 2000});
  BOOST_TEST(login->is_remembered("alice", "k", 1500, 0));
  const auto batch = login->recovery_codes("alice");
  BOOST_REQUIRE(batch.has_value());
  BOOST_TEST(login->use_recovery_code("alice", batch->codes.at(0).id, "h1", 1100, "sshd"));
  const std::vector<std::pair<const char*, std::function<void()>>> refused = {
      {"set_recovery_codes", [&] { login->set_recovery_codes("alice", "salt", {"h2"}, 1200); }},
      {"remembered", [&] { login->remembered("alice", 1500); }},
      {"count", [&] { login->count(kSendUser, "alice", 0); }},
      {"forget", [&] { login->forget("alice"); }},
      {"forget_rhost", [&] { login->forget_rhost("r"); }},
  };
  for (const auto& [name, call] : refused) {
    const std::string e = error_of(call);
    BOOST_TEST(e.find("refused pam_otp_login an administrator's function") != std::string::npos, name << ": " << e);
    BOOST_TEST(e.find("--grant-admin") != std::string::npos, name << ": " << e);
  }
  BOOST_TEST(open()->count(kSendUser, "alice", 0) == 1);  // nothing forgotten
  BOOST_TEST(open()->recovery_codes("alice")->codes.size() == 1u);
  server().sql("GRANT EXECUTE ON FUNCTION pam_otp.forget_v1(text) TO pam_otp_login", db);
  pg_init(server().admin(db), "pam_otp_login", milliseconds(10000));
  BOOST_TEST(error_of([&] { open_login()->forget("alice"); }).find("administrator's function") != std::string::npos);
}

// Through pgbouncer in transaction mode (README's deployment), the login
// role does what a login does, each call passed on as it is.
BOOST_AUTO_TEST_CASE(a_login_through_pgbouncer_does_what_a_login_does) {
  if (skipped()) return;
  testing::Pgbouncer pgbouncer(server(), 2);
  open()->set_recovery_codes("alice", "salt", {"h1"}, 1000);
  auto login = open_pg_store(pgbouncer.login("pam_otp_login", db), milliseconds(10000));
  BOOST_TEST(login->hash_key().reveal() == open()->hash_key().reveal());
  BOOST_TEST(!login->take({{kSendUser, "alice", 1, 900}}, 1000));
  BOOST_TEST(login->take({{kSendUser, "alice", 1, 900}}, 1001).has_value());
  login->remember({"alice", "k", "sshd", 1000, 2000});
  BOOST_TEST(login->is_remembered("alice", "k", 1500, 0));
  const auto batch = login->recovery_codes("alice");
  BOOST_REQUIRE(batch.has_value());
  BOOST_TEST(login->use_recovery_code("alice", batch->codes.at(0).id, "h1", 1100, "sshd"));
  BOOST_TEST(!login->use_recovery_code("alice", batch->codes.at(0).id, "h1", 1101, "sshd"));
  BOOST_TEST(open()->count(kSendUser, "alice", 0) == 1);
  BOOST_TEST(error_of([&] { login->forget("alice"); }).find("administrator's function") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_role_without_the_grants_is_told_so) {
  if (skipped()) return;
  server().sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pam_otp_other') THEN "
               "CREATE ROLE pam_otp_other LOGIN PASSWORD 'other'; END IF; END $$");
  const std::string e = error_of([&] { open_pg_store(server().login("pam_otp_other", "other", db), milliseconds(10000))->hash_key(); });
  BOOST_TEST(e.find("refused this role") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(names_with_quotes_and_backslashes_are_data) {
  if (skipped()) return;
  auto store = open();
  const std::string user = "o'brien\\\"; DROP TABLE pam_otp.events; --{},";
  BOOST_TEST(!store->take({{kSendUser, user, 1, 900}, {kSendRhost, "r\"}", 5, 900}}, 1000));
  BOOST_TEST(store->take({{kSendUser, user, 1, 900}}, 1001).has_value());
  BOOST_TEST(store->count(kSendUser, user, 0) == 1);
  BOOST_TEST(store->count(kSendRhost, "r\"}", 0) == 1);
  store->remember({user, "k", "sshd", 1000, 2000});
  BOOST_TEST(store->is_remembered(user, "k", 1500, 0));
  BOOST_TEST(store->remembered(user, 1500).at(0).user == user);
}

BOOST_AUTO_TEST_CASE(the_environment_libpq_would_obey_is_refused) {
  if (skipped()) return;
  ::setenv("PGOPTIONS", "-c default_transaction_isolation=serializable", 1);
  const std::string e = error_of([&] { open()->hash_key(); });
  ::unsetenv("PGOPTIONS");
  BOOST_TEST(e.find("the environment sets PGOPTIONS") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(counting_refuses_an_isolation_level_that_would_miss_counts) {
  if (skipped()) return;
  server().sql("ALTER ROLE pam_otp_login IN DATABASE " + db + " SET default_transaction_isolation = 'repeatable read'");
  const std::string e = error_of([&] { open_login()->take({{kSendUser, "alice", 5, 900}}, 1000); });
  server().sql("ALTER ROLE pam_otp_login IN DATABASE " + db + " RESET default_transaction_isolation");
  BOOST_TEST(e.find("read committed") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(a_lock_held_elsewhere_is_waited_for_within_the_budget_only) {
  if (skipped()) return;
  // Another session holds the key's lock in an open transaction (a host
  // stuck mid-call): the count gives up within its budget.
  LockHolder holder(db);
  auto store = open(milliseconds(500));
  const auto start = std::chrono::steady_clock::now();
  const std::string e = error_of([&] { store->take({{kSendUser, "alice", 5, 900}}, 1000); });
  const long long took = ms_since(start);
  holder.release();
  BOOST_TEST(e.find("lock timeout") != std::string::npos, e);  // the server's lock_timeout, before ours
  BOOST_TEST(took < testing::within(milliseconds(500)).count());
  BOOST_TEST(!open()->take({{kSendUser, "alice", 5, 900}}, 1000));  // nothing left behind
}

BOOST_AUTO_TEST_CASE(a_restarted_server_has_lost_nothing) {
  if (skipped()) return;
  auto store = open();
  store->set_recovery_codes("alice", "salt", {"h1", "h2"}, 1000);
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1000));
  server().stop_immediately();
  BOOST_TEST(!error_of([&] { open(milliseconds(500))->hash_key(); }).empty());
  server().start();
  auto again = open();
  BOOST_TEST(again->recovery_codes("alice")->codes.size() == 2u);
  BOOST_TEST(again->count(kSendUser, "alice", 0) == 1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::store
