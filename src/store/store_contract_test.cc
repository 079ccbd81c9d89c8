// The Store contract, the same tests for every backend: the SQLite file in
// this process, the same file through the state helper process
// (helper_store.h), which logins use when their caller could stop them,
// through the state service (state_service.h), one process for every login,
// and the shared store in a real PostgreSQL 15 (pg_store.h), a database of
// its own for each test's "path", directly and through pgbouncer.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "base/json.h"
#include "store/helper_protocol.h"
#include "store/helper_store.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "store/state_service.h"
#include "postgres_server.h"
#include "state_service_process.h"
#include "temp_dir.h"

namespace otp::store {
namespace {

using std::chrono::milliseconds;

// One service per state file a test opens through the "service" backend,
// ended with the test.
std::map<std::string, std::unique_ptr<testing::StateServiceProcess>>& services() {
  static std::map<std::string, std::unique_ptr<testing::StateServiceProcess>> running;
  return running;
}

// A connection to the service at `socket` of the test's own, speaking the
// protocol by hand; -1 when it cannot connect.
int connect_raw(const std::string& socket) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, socket.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
  ::close(fd);
  return -1;
}

// Everything the service says until it hangs up; closes fd.
std::string read_to_end(int fd) {
  std::string heard;
  char chunk[512];
  for (ssize_t n; (n = ::recv(fd, chunk, sizeof chunk, 0)) > 0;) heard.append(chunk, static_cast<std::size_t>(n));
  ::close(fd);
  return heard;
}

std::string socket_for(const std::string& path) { return path.substr(0, path.rfind('/')) + "-run/state.sock"; }

std::unique_ptr<Store> open_through_service(const std::string& path, const ServiceClientOptions& options) {
  auto& running = services()[path];
  if (!running) running = std::make_unique<testing::StateServiceProcess>(path, socket_for(path));
  return open_service_store(socket_for(path), path, options);
}

// The test program's PostgreSQL server, started at the first test that
// needs it, and the database each state path stands for.
testing::PostgresServer& postgres() {
  static testing::PostgresServer server;
  return server;
}
std::map<std::string, std::string>& databases() {
  static std::map<std::string, std::string> by_path;
  return by_path;
}

const std::string& database_for(const std::string& path) {
  auto& db = databases()[path];
  if (db.empty()) db = postgres().new_store_database();
  return db;
}

// (A budget for sanitizer and valgrind builds too: the budget is tested on its own.)
constexpr std::chrono::seconds kPgBudget{10};

std::unique_ptr<Store> open_postgres(const std::string& path) {
  // (As pam_otp_admin: the contract covers pam-otp's calls as well as a login's.)
  return open_pg_store(postgres().store_admin(database_for(path)), kPgBudget);
}

// Through pgbouncer in transaction mode, as README deploys it: clients
// share 3 server connections between transactions, so the racing clients
// of a test wait for one another in pgbouncer's queue.
std::unique_ptr<Store> open_through_pgbouncer(const std::string& path) {
  static testing::Pgbouncer pgbouncer(postgres(), 3);
  return open_pg_store(pgbouncer.login(testing::PostgresServer::kAdminRole, database_for(path)), kPgBudget);
}

struct Backend {
  const char* name;
  std::function<std::unique_ptr<Store>(const std::string& path)> open;
  bool file = true;          // the SQLite file at path, one way or another
  bool runs_in_take = true;  // take_ahead leaves the count to take()
};
std::ostream& operator<<(std::ostream& out, const Backend& b) { return out << b.name; }

const Backend kBackends[] = {
    {"sqlite", [](const std::string& path) { return open_sqlite_store(path); }},
    {"helper", [](const std::string& path) { return open_helper_store(path, {PAM_OTP_STATE_HELPER_PATH}); }, true,
     false},
    // As a tool (pam-otp check) uses it: one connection, the hello first.
    {"service", [](const std::string& path) { return open_through_service(path, {}); }, true, false},
    // As a login uses it: a connection per call, the hello with each.
    {"service_per_call",
     [](const std::string& path) { return open_through_service(path, {.hello_with_first_call = true}); }, true, false},
    {"postgresql", open_postgres, false, true},
    {"pgbouncer", open_through_pgbouncer, false, true},
};

// Backends this machine cannot run are skipped, saying why (PostgreSQL
// needs root, to run it as the postgres user).
bool skipped(const Backend& backend) {
  if (backend.file) return false;
  if (const auto why = testing::PostgresServer::unavailable()) {
    BOOST_TEST_MESSAGE("skipped the " << backend.name << " backend: " << *why);
    return true;
  }
  return false;
}

struct Fixture {
  ~Fixture() { services().clear(); }
  testing::TempDir dir;
  std::string path = dir.path() + "/state/state.db";
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(store_contract, Fixture)

BOOST_DATA_TEST_CASE(the_hash_key_is_made_once, boost::unit_test::data::make(kBackends), backend) {
  if (skipped(backend)) return;
  const Secret key = backend.open(path)->hash_key();
  BOOST_TEST(key.size() == 32u);
  BOOST_TEST(backend.open(path)->hash_key().reveal() == key.reveal());
  if (backend.file) BOOST_TEST(open_sqlite_store(path)->hash_key().reveal() == key.reveal());  // one file, one key
}

BOOST_DATA_TEST_CASE(a_recovery_code_is_used_once, boost::unit_test::data::make(kBackends), backend) {
  if (skipped(backend)) return;
  auto store = backend.open(path);
  BOOST_TEST(!store->recovery_codes("alice"));
  store->set_recovery_codes("alice", "salt", {"h1", "h2"}, 1000);
  auto batch = store->recovery_codes("alice");
  BOOST_REQUIRE(batch);
  BOOST_TEST(batch->salt == "salt");
  BOOST_TEST(batch->issued_at == 1000);
  BOOST_REQUIRE(batch->codes.size() == 2u);
  BOOST_TEST(batch->codes[1].hash == "h2");
  BOOST_TEST(!batch->codes[0].used_at);
  const auto id = batch->codes[0].id;
  BOOST_TEST(!store->use_recovery_code("bob", id, "h1", 1001, "sshd"));  // not bob's
  BOOST_TEST(!store->use_recovery_code("alice", id, "h2", 1001, "sshd"));  // not that code
  BOOST_TEST(store->use_recovery_code("alice", id, "h1", 1001, "sshd"));
  BOOST_TEST(!store->use_recovery_code("alice", id, "h1", 1002, "sshd"));  // once
  batch = store->recovery_codes("alice");
  BOOST_TEST(*batch->codes[0].used_at == 1001);
  BOOST_TEST(batch->codes[0].used_by == "sshd");
  store->set_recovery_codes("alice", "salt2", {"h3"}, 2000);  // a new batch replaces the old
  BOOST_TEST(store->recovery_codes("alice")->codes.size() == 1u);
  // Ids are reused: a login that read the old batch cannot use a new code
  // with its old code's id.
  const auto new_id = store->recovery_codes("alice")->codes[0].id;
  BOOST_TEST(!store->use_recovery_code("alice", new_id, "h1", 2001, "sshd"));
  BOOST_TEST(!store->recovery_codes("alice")->codes[0].used_at);
  store->set_recovery_codes("alice", "", {}, 3000);
  BOOST_TEST(!store->recovery_codes("alice"));
}

BOOST_DATA_TEST_CASE(a_remembered_login_expires_and_can_be_forgotten, boost::unit_test::data::make(kBackends),
                     backend) {
  if (skipped(backend)) return;
  auto store = backend.open(path);
  store->remember({"alice", "k1", "sshd", 1000, 2000});
  store->remember({"bob", "k2", "sshd", 1000, 1500});
  BOOST_TEST(store->is_remembered("alice", "k1", 1999, 0));
  BOOST_TEST(!store->is_remembered("alice", "k1", 2000, 0));  // absolute expiry
  BOOST_TEST(!store->is_remembered("alice", "k1", 1500, 1000));  // stored before not_before (remember shortened)
  BOOST_TEST(!store->is_remembered("alice", "k2", 1001, 0));
  BOOST_TEST(store->remembered("", 1001).size() == 2u);
  BOOST_TEST(store->remembered("bob", 1600).empty());
  store->forget("alice");
  BOOST_TEST(!store->is_remembered("alice", "k1", 1001, 0));
  BOOST_TEST(store->is_remembered("bob", "k2", 1001, 0));
  store->remember({"bob", "k3", "sshd", 1600, 2600});  // prunes bob's expired k2
  BOOST_TEST(store->remembered("", 0).size() == 1u);
}

BOOST_DATA_TEST_CASE(take_counts_against_every_limit_or_records_nothing, boost::unit_test::data::make(kBackends),
                     backend) {
  if (skipped(backend)) return;
  auto store = backend.open(path);
  const std::vector<Limit> limits = {{"send_user", "alice", 2, 900}, {"send_rhost", "r1", 3, 3600}};
  BOOST_TEST(!store->take(limits, 1000));
  BOOST_TEST(!store->take(limits, 1100));
  const auto reached = store->take(limits, 1200);
  BOOST_REQUIRE(reached);
  BOOST_TEST(reached->index == 0u);
  BOOST_TEST(reached->retry_after == 700);  // the first send leaves the window at 1900
  BOOST_TEST(store->count("send_rhost", "r1", 0) == 2);  // nothing recorded when refused
  BOOST_TEST(!store->take(limits, 1900));  // the first send has left the user's window
  const auto rhost = store->take({{"send_user", "bob", 5, 900}, {"send_rhost", "r1", 3, 3600}}, 1950);
  BOOST_REQUIRE(rhost);
  BOOST_TEST(rhost->index == 1u);
  store->forget("alice");
  BOOST_TEST(store->count("send_user", "alice", 0) == 0);
  BOOST_TEST(store->count("send_rhost", "r1", 0) == 3);  // per address, not the user's
}

// A take sent ahead (a login sends it before loading its HTTP plugin) is
// the take that reads it: counted once, refused as a take is.
BOOST_DATA_TEST_CASE(a_take_sent_ahead_counts_once, boost::unit_test::data::make(kBackends), backend) {
  if (skipped(backend)) return;
  auto store = backend.open(path);
  const std::vector<Limit> limits = {{"send_user", "alice", 2, 900}};
  for (std::int64_t now : {1000, 1100}) {
    store->take_ahead(limits, now);
    BOOST_TEST(!store->take(limits, now));
  }
  store->take_ahead(limits, 1200);
  const auto reached = store->take(limits, 1200);
  BOOST_REQUIRE(reached);
  BOOST_TEST(reached->retry_after == 700);
  BOOST_TEST(store->count("send_user", "alice", 0) == 2);
  // Where it went ahead (to another process), another call than it would
  // read its answer: an error. (SQLite runs it in the take.)
  store->take_ahead(limits, 2000);
  if (!backend.runs_in_take) BOOST_CHECK_THROW(store->take({{"send_user", "bob", 2, 900}}, 2000), Error);
  else BOOST_TEST(!store->take({{"send_user", "bob", 2, 900}}, 2000));
}

BOOST_DATA_TEST_CASE(an_address_or_a_user_can_be_forgotten, boost::unit_test::data::make(kBackends), backend) {
  if (skipped(backend)) return;
  auto store = backend.open(path);
  const std::string r1(64, 'a'), r2(64, 'b');
  for (const auto& [rhost, user] : {std::pair{r1, "alice"}, std::pair{r1, "al:ice"}, std::pair{r2, "alice"}})
    BOOST_TEST(!store->take({{kSendRhost, rhost, 100, 3600}, {kSendUserRhost, user_rhost_key(rhost, user), 100, 3600}},
                            1000));
  store->forget("alice");  // alice's share of every address, not al:ice's
  BOOST_TEST(store->count(kSendUserRhost, user_rhost_key(r1, "alice"), 0) == 0);
  BOOST_TEST(store->count(kSendUserRhost, user_rhost_key(r2, "alice"), 0) == 0);
  BOOST_TEST(store->count(kSendUserRhost, user_rhost_key(r1, "al:ice"), 0) == 1);
  BOOST_TEST(store->count(kSendRhost, r1, 0) == 2);
  store->forget_rhost(r1);  // the address and every user's share of it
  BOOST_TEST(store->count(kSendRhost, r1, 0) == 0);
  BOOST_TEST(store->count(kSendUserRhost, user_rhost_key(r1, "al:ice"), 0) == 0);
  BOOST_TEST(store->count(kSendRhost, r2, 0) == 1);
}

BOOST_DATA_TEST_CASE(a_store_that_cannot_be_opened_says_why, boost::unit_test::data::make(kBackends), backend) {
  if (!backend.file) return;  // (the shared store's refusals: pg_store_test.cc)
  BOOST_REQUIRE(::mkdir((dir.path() + "/open").c_str(), 0777) == 0);
  ::chmod((dir.path() + "/open").c_str(), 0777);
  try {
    backend.open(dir.path() + "/open/state.db")->hash_key();  // (a login's first call carries its hello)
    BOOST_FAIL("opened a store in a directory anyone can write to");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("is writable by group or others") != std::string::npos, e.what());
    // The helper ran and its store said no: not the helper's failure. (A
    // login's first call to the service says PeerUnavailable: its file then.)
    const bool peer_failure = dynamic_cast<const PeerUnavailable*>(&e) != nullptr;
    BOOST_TEST(peer_failure == (std::string(backend.name) == "service_per_call"));
  }
}

// Eight connections racing for one recovery code: exactly one wins, on
// every backend (for the shared store: as hosts of a fleet would).
BOOST_DATA_TEST_CASE(connections_racing_for_one_code_let_one_win, boost::unit_test::data::make(kBackends), backend) {
  if (skipped(backend)) return;
  backend.open(path)->set_recovery_codes("alice", "salt", {"h1"}, 1000);
  const auto id = backend.open(path)->recovery_codes("alice")->codes.at(0).id;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < 8; ++i) stores.push_back(backend.open(path));
  std::atomic<int> wins{0}, errors{0};
  std::vector<std::thread> racers;
  for (auto& store : stores)
    racers.emplace_back([&, s = store.get()] {
      try {
        if (s->use_recovery_code("alice", id, "h1", 1001, "sshd")) ++wins;
      } catch (const Error&) {
        ++errors;
      }
    });
  for (auto& t : racers) t.join();
  BOOST_TEST(wins.load() == 1);
  BOOST_TEST(errors.load() == 0);
}

// Counting is atomic across connections: 8 at once, 5 takes each, against
// a limit of 30: exactly 30 counted and 10 refused, nothing lost or doubled.
BOOST_DATA_TEST_CASE(takes_at_once_count_exactly, boost::unit_test::data::make(kBackends), backend) {
  if (skipped(backend)) return;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < 8; ++i) stores.push_back(backend.open(path));
  std::atomic<int> taken{0}, refused{0}, errors{0};
  std::vector<std::thread> threads;
  for (auto& store : stores)
    threads.emplace_back([&, s = store.get()] {
      for (int i = 0; i < 5; ++i) try {
          if (s->take({{kSendUser, "alice", 30, 900}, {kSendRhost, "r", 100, 900}}, 1000)) ++refused;
          else ++taken;
        } catch (const Error&) {
          ++errors;
        }
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(errors.load() == 0);
  BOOST_TEST(taken.load() == 30);
  BOOST_TEST(refused.load() == 10);
  BOOST_TEST(backend.open(path)->count(kSendUser, "alice", 0) == 30);
  BOOST_TEST(backend.open(path)->count(kSendRhost, "r", 0) == 30);
}

BOOST_AUTO_TEST_SUITE_END()

// The helper itself: what it needs, and what it does with nonsense.
BOOST_FIXTURE_TEST_SUITE(state_helper, Fixture)

BOOST_AUTO_TEST_CASE(a_helper_that_cannot_run_is_this_machines_failure) {
  for (const std::string& helper : {dir.path() + "/missing", std::string("relative/helper"), dir.path()}) {
    BOOST_TEST_CONTEXT(helper) {
      BOOST_CHECK_THROW(open_helper_store(path, {helper}), PeerUnavailable);
    }
  }
  // A program that is no helper: it ends without answering.
  BOOST_CHECK_THROW(open_helper_store(path, {"/bin/true"}), PeerUnavailable);
}

BOOST_AUTO_TEST_CASE(a_helper_that_does_not_answer_is_given_up_within_the_budget) {
  // (sleep takes the state file for a number of seconds and never answers.)
  const auto started = std::chrono::steady_clock::now();
  BOOST_CHECK_THROW(open_helper_store("30", {"/bin/sleep", std::chrono::milliseconds(200), std::chrono::milliseconds(100)}),
                    Error);
  BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(5)));
}

// A login left at its prompt outlives its helper (5 minutes idle): the
// next call starts a new one.
BOOST_AUTO_TEST_CASE(a_helper_that_ended_while_idle_is_started_again) {
  HelperOptions options{PAM_OTP_STATE_HELPER_PATH};
  options.idle_seconds = 1;
  auto store = open_helper_store(path, options);
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1000));
  ::usleep(1500000);
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1001));
  BOOST_TEST(store->count(kSendUser, "alice", 0) == 2);
}

BOOST_AUTO_TEST_CASE(requests_that_make_no_sense_get_an_error_not_a_crash) {
  auto store = open_sqlite_store(path);
  for (const char* text : {"null", "{}", R"({"op":"take"})", R"({"op":"take","limits":"x","now":1})",
                           R"({"op":"take","limits":[{"kind":1}],"now":1})", R"({"op":"drop_tables"})",
                           R"({"op":"use_recovery_code","user":"a","id":1,"hash":"%%%","now":1,"service":"s"})",
                           R"({"op":"count","kind":"k","key":"k","since":1e300})"}) {
    BOOST_TEST_CONTEXT(text) {
      const Json::Value answer = protocol::serve(*store, json::parse(text).value_or(Json::Value()));
      BOOST_TEST(answer["ok"].asBool() == false);
      BOOST_TEST(answer["error"].asString().find("malformed") != std::string::npos, answer["error"].asString());
    }
  }
}

BOOST_AUTO_TEST_CASE(answers_that_make_no_sense_are_errors) {
  Json::Value answer = *json::parse(R"({"ok":false,"error":"disk full"})");
  try {
    protocol::result_of(answer);
    BOOST_FAIL("an error answer read as a result");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()) == "disk full");
  }
  for (const char* text : {"null", "{}", R"({"ok":"yes"})", R"({"ok":true})"}) {
    BOOST_CHECK_THROW(protocol::result_of(json::parse(text).value_or(Json::Value())), Error);
  }
  BOOST_CHECK_THROW(protocol::read_hash_key(Json::Value(42)), Error);
  BOOST_CHECK_THROW(protocol::read_bool(Json::Value("true")), Error);
  BOOST_CHECK_THROW(protocol::read_limit_reached(*json::parse(R"({"index":-1,"retry_after":5})")), Error);
}

BOOST_AUTO_TEST_SUITE_END()

// The service itself: whom it trusts, who trusts it, and what it does when
// a login stops reading or the file is replaced under it.
BOOST_FIXTURE_TEST_SUITE(state_service, Fixture)

BOOST_AUTO_TEST_CASE(no_service_is_absent_not_broken) {
  const std::string socket = dir.path() + "/run/state.sock";
  BOOST_CHECK_THROW(open_service_store(socket, path), ServiceAbsent);  // no socket file
  {
    testing::StateServiceProcess service(path, socket);
    service.stop();  // its socket file stays, and nobody listens
  }
  BOOST_CHECK_THROW(open_service_store(socket, path), ServiceAbsent);
  BOOST_CHECK_THROW(open_service_store("relative.sock", path), PeerUnavailable);
}

BOOST_AUTO_TEST_CASE(a_service_that_keeps_another_file_is_not_used) {
  const std::string socket = dir.path() + "/run/state.sock";
  testing::StateServiceProcess service(dir.path() + "/other/state.db", socket);
  try {
    open_service_store(socket, path);
    BOOST_FAIL("used a service that keeps another file");
  } catch (const ServiceAbsent&) {
    BOOST_FAIL("a service that is there is not absent");
  } catch (const PeerUnavailable& e) {
    BOOST_TEST(std::string(e.what()).find("keeps " + dir.path() + "/other/state.db, not " + path) != std::string::npos,
               e.what());
  }
  BOOST_TEST(::access(path.c_str(), F_OK) != 0);  // nothing written to either
  // A login sends its first request right behind its hello: the service
  // answers the hello and hangs up, and runs nothing more.
  const int raw = connect_raw(socket);
  BOOST_REQUIRE(raw >= 0);
  const std::string lines = R"({"op":"hello","state_file":")" + path + "\"}\n" +
                            R"({"op":"take","limits":[{"kind":"send_user","key":"alice","max":5,"window":900}],"now":1000})" "\n";
  BOOST_REQUIRE(::send(raw, lines.data(), lines.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(lines.size()));
  const std::string heard = read_to_end(raw);
  BOOST_TEST(heard == R"({"ok":true,"result":{"state_file":")" + dir.path() + "/other/state.db\"}}\n");
  BOOST_TEST(open_sqlite_store(dir.path() + "/other/state.db")->count(kSendUser, "alice", 0) == 0);
}

// A login sends its hello with its first call: against a service that
// keeps another file that call fails as the service's, having run nothing.
BOOST_AUTO_TEST_CASE(the_hello_can_go_with_the_first_call) {
  const std::string socket = dir.path() + "/run/state.sock";
  const std::string other = dir.path() + "/other/state.db";
  {
    testing::StateServiceProcess service(other, socket);
    auto store = open_service_store(socket, path, {.hello_with_first_call = true});  // no answer waited for
    BOOST_CHECK_THROW(store->take({{kSendUser, "alice", 5, 900}}, 1000), PeerUnavailable);
    BOOST_TEST(open_sqlite_store(other)->count(kSendUser, "alice", 0) == 0);
  }
  {
    testing::StateServiceProcess service(other, socket);  // the same, the call sent ahead
    auto store = open_service_store(socket, path, {.hello_with_first_call = true});
    store->take_ahead({{kSendUser, "alice", 5, 900}}, 1000);
    BOOST_CHECK_THROW(store->take({{kSendUser, "alice", 5, 900}}, 1000), PeerUnavailable);
    BOOST_TEST(open_sqlite_store(other)->count(kSendUser, "alice", 0) == 0);
  }
  testing::StateServiceProcess service(path, socket);
  auto store = open_service_store(socket, path, {.hello_with_first_call = true});
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1000));
  BOOST_TEST(store->count(kSendUser, "alice", 0) == 1);
}

// A first call that was sent and never answered may have run: a store
// failure, not the service's refusal that would send it to the file too.
BOOST_AUTO_TEST_CASE(a_first_call_never_answered_is_no_refusal) {
  const std::string socket = dir.path() + "/mute.sock";
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, socket.c_str());
  BOOST_REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  BOOST_REQUIRE(::listen(listener, 4) == 0);  // connections wait in its queue, never answered
  auto store = open_service_store(socket, path, {milliseconds(300), true});
  try {
    store->take({{kSendUser, "alice", 5, 900}}, 1000);
    BOOST_FAIL("a mute service answered");
  } catch (const PeerUnavailable& e) {
    BOOST_FAIL(std::string("read as a refusal: ") + e.what());
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("did not answer within 300 ms") != std::string::npos, e.what());
  }
  ::close(listener);
}

BOOST_AUTO_TEST_CASE(the_first_line_must_be_hello) {
  const std::string socket = dir.path() + "/run/state.sock";
  testing::StateServiceProcess service(path, socket);
  const int raw = connect_raw(socket);
  BOOST_REQUIRE(raw >= 0);
  const std::string line = R"({"op":"count","kind":"send_user","key":"alice","since":0})" "\n";
  BOOST_REQUIRE(::send(raw, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size()));
  const std::string heard = read_to_end(raw);
  BOOST_TEST(heard == "{\"error\":\"malformed request: the first must be hello\",\"ok\":false}\n");
}

// Many connections at once, one of them never reading its answers (its
// login stopped): the others are answered, and that one is dropped.
BOOST_AUTO_TEST_CASE(a_client_that_stops_reading_holds_up_nobody) {
  const std::string socket = dir.path() + "/run/state.sock";
  testing::StateServiceProcess service(path, socket);
  auto stuck = open_service_store(socket, path);  // connected, then never heard from
  std::vector<std::unique_ptr<Store>> logins;
  for (int i = 0; i < 50; ++i) logins.push_back(open_service_store(socket, path));
  for (int i = 0; i < 50; ++i) BOOST_TEST(!logins[i]->take({{kSendUser, "alice", 100, 900}}, 1000 + i));
  BOOST_TEST(logins[0]->count(kSendUser, "alice", 0) == 50);
  // A raw client that sends requests and never reads: its answers fill the
  // socket, and the service drops it instead of waiting.
  const int raw = connect_raw(socket);
  BOOST_REQUIRE(raw >= 0);
  const std::string request = R"({"op":"remembered","user":"","now":1})" "\n";
  std::string many = R"({"op":"hello","state_file":")" + path + "\"}\n";
  for (int i = 0; i < 20000; ++i) many += request;
  (void)!::send(raw, many.data(), many.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  const auto started = std::chrono::steady_clock::now();
  BOOST_TEST(!logins[1]->take({{kSendUser, "bob", 100, 900}}, 2000));
  BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(2)));
  ::close(raw);
  BOOST_TEST(stuck->count(kSendUser, "bob", 0) == 1);  // the idle one is still served
}

// At its limit of connections, the one heard from least recently makes
// room: logins a caller stopped cannot keep others out, and a dropped
// login connects again when it goes on.
BOOST_AUTO_TEST_CASE(the_least_recently_heard_connection_makes_room) {
  const std::string socket = dir.path() + "/run/state.sock";
  testing::StateServiceProcess service(path, socket, {"--max-clients", "2"});
  const std::string hello = R"({"op":"hello","state_file":")" + path + "\"}\n";
  // Two connections, each greeted; the first then says nothing more.
  int raw[3];
  for (int i = 0; i < 2; ++i) {
    raw[i] = connect_raw(socket);
    BOOST_REQUIRE(raw[i] >= 0);
    BOOST_REQUIRE(::send(raw[i], hello.data(), hello.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(hello.size()));
    char answer[256];
    BOOST_REQUIRE(::recv(raw[i], answer, sizeof answer, 0) > 0);
    std::this_thread::sleep_for(milliseconds(20));  // (heard at different times)
  }
  // A third: the first is closed (it reads its end at once) to make room.
  raw[2] = connect_raw(socket);
  BOOST_REQUIRE(raw[2] >= 0);
  BOOST_REQUIRE(::send(raw[2], hello.data(), hello.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(hello.size()));
  pollfd first{raw[0], POLLIN, 0};
  BOOST_REQUIRE(::poll(&first, 1, 5000) == 1);
  BOOST_TEST(read_to_end(raw[0]) == "");
  pollfd second{raw[1], POLLIN, 0};
  BOOST_TEST(::poll(&second, 1, 200) == 0);  // still open, nothing to read
  ::close(raw[1]);
  ::close(raw[2]);
  // And a store's calls go on through the room made.
  BOOST_TEST(!open_service_store(socket, path)->take({{kSendUser, "carol", 5, 900}}, 1000));
}

// Each request has the whole wait budget: a service runs for months.
BOOST_AUTO_TEST_CASE(the_wait_budget_is_per_request) {
  const std::string socket = dir.path() + "/run/state.sock";
  testing::StateServiceProcess service(path, socket, {"--wait-budget", "500"});
  auto store = open_service_store(socket, path);
  BOOST_TEST(!store->take({{kSendUser, "alice", 100, 900}}, 1000));
  for (int round = 0; round < 3; ++round) {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    BOOST_REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    std::thread release([db] {
      std::this_thread::sleep_for(milliseconds(300));
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    });
    // Waits its 300 ms each time: 900 ms in all, beyond one 500 ms budget.
    BOOST_TEST(!store->take({{kSendUser, "alice", 100, 900}}, 1001 + round));
    release.join();
    sqlite3_close(db);
  }
  BOOST_TEST(store->count(kSendUser, "alice", 0) == 4);
}

// An administrator restores the file from a backup, or deletes it: the
// service uses what is at the path now, as a new login would.
BOOST_AUTO_TEST_CASE(a_replaced_file_is_opened_again) {
  const std::string socket = dir.path() + "/run/state.sock";
  testing::StateServiceProcess service(path, socket);
  auto store = open_service_store(socket, path);
  const Secret key = store->hash_key();
  BOOST_TEST(!store->take({{kSendUser, "alice", 100, 900}}, 1000));
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  BOOST_TEST(store->count(kSendUser, "alice", 0) == 0);
  BOOST_TEST(store->hash_key().reveal() != key.reveal());
  BOOST_TEST(open_sqlite_store(path)->hash_key().reveal() == store->hash_key().reveal());
}

// A login left at its prompt past the service's idle time: the next call
// connects again.
BOOST_AUTO_TEST_CASE(a_connection_closed_while_idle_is_made_again) {
  const std::string socket = dir.path() + "/run/state.sock";
  testing::StateServiceProcess service(path, socket, {"--idle", "1"});
  auto store = open_service_store(socket, path);
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1000));
  ::usleep(2500000);
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1001));
  BOOST_TEST(store->count(kSendUser, "alice", 0) == 2);
}

BOOST_AUTO_TEST_CASE(its_socket_directory_is_checked_like_the_state_directory) {
  BOOST_REQUIRE(::mkdir((dir.path() + "/open").c_str(), 0777) == 0);
  ::chmod((dir.path() + "/open").c_str(), 0777);
  const std::string helper = PAM_OTP_STATE_HELPER_PATH;
  const std::string command = helper + " --serve " + path + " --socket " + dir.path() + "/open/state.sock 2>" +
                              dir.path() + "/err";
  const int status = std::system(command.c_str());
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 1);
  std::ifstream err(dir.path() + "/err");
  const std::string said((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  BOOST_TEST(said.find("is writable by group or others") != std::string::npos, said);
  BOOST_TEST(std::system((helper + " --serve 2>/dev/null").c_str()) != 0);
  BOOST_TEST(std::system((helper + " --serve " + path + " --socket 2>/dev/null").c_str()) != 0);
  BOOST_TEST(std::system((helper + " --serve " + path + " --idle 0 --socket /x 2>/dev/null").c_str()) != 0);
}

// Under systemd it serves the socket systemd made and passed as descriptor
// 3 (LISTEN_FDS, LISTEN_PID), as pam-otp-state.socket does.
BOOST_AUTO_TEST_CASE(it_serves_the_socket_systemd_passes) {
  const std::string socket = dir.path() + "/run.sock";
  const int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, socket.c_str());
  BOOST_REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  BOOST_REQUIRE(::listen(listener, 16) == 0);
  // (sh gives the pid it execs the service with as $$.)
  const std::string command = "exec 3<&" + std::to_string(listener) + "; sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec " +
                              PAM_OTP_STATE_HELPER_PATH + " --serve " + path + "' & echo $! > " + dir.path() + "/pid";
  BOOST_REQUIRE(std::system(command.c_str()) == 0);
  ::close(listener);
  auto store = open_service_store(socket, path);
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1000));
  BOOST_TEST(open_sqlite_store(path)->count(kSendUser, "alice", 0) == 1);
  std::ifstream pid_file(dir.path() + "/pid");
  pid_t pid = 0;
  pid_file >> pid;
  BOOST_REQUIRE(pid > 0);
  ::kill(pid, SIGTERM);
}

// Run by another user, it is not trusted; connected to by another user, it
// says nothing. Needs root (CI is root).
BOOST_AUTO_TEST_CASE(only_root_serves_and_only_root_is_served) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: running a service as another user needs root (CI runs as root)");
    return;
  }
  const std::string nobody_dir = dir.path() + "/nobody";
  BOOST_REQUIRE(::mkdir(nobody_dir.c_str(), 0700) == 0);
  BOOST_REQUIRE(::chown(nobody_dir.c_str(), 65534, 65534) == 0);
  ::chmod(dir.path().c_str(), 0755);
  const std::string socket = nobody_dir + "/run/state.sock";
  const std::string command = "exec /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups " +
                              std::string(PAM_OTP_STATE_HELPER_PATH) + " --serve " + nobody_dir +
                              "/state/state.db --socket " + socket + " 2>/dev/null & echo $! > " + dir.path() + "/pid";
  BOOST_REQUIRE(std::system(command.c_str()) == 0);
  for (int i = 0; i < 2000 && ::access(socket.c_str(), F_OK) != 0; ++i) std::this_thread::sleep_for(milliseconds(5));
  try {
    open_service_store(socket, nobody_dir + "/state/state.db");
    BOOST_FAIL("trusted a service run by nobody");
  } catch (const PeerUnavailable& e) {
    BOOST_TEST(std::string(e.what()).find("is run by uid 65534, not by root") != std::string::npos, e.what());
  }
  std::ifstream pid_file(dir.path() + "/pid");
  pid_t pid = 0;
  pid_file >> pid;
  if (pid > 0) ::kill(pid, SIGTERM);
  // Root's service, its socket opened to all: nobody connects and the
  // service hangs up at once (a service that waited for a hello would let
  // the probe's 5 s run out instead).
  const std::string root_socket = dir.path() + "/run/state.sock";
  testing::StateServiceProcess service(path, root_socket);
  ::chmod((dir.path() + "/run").c_str(), 0755);
  ::chmod(root_socket.c_str(), 0666);
  const std::string probe = "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '"
                            "import socket; s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(\"" +
                            root_socket + "\"); print(repr(s.recv(100)))' > " + dir.path() + "/heard 2>&1";
  BOOST_TEST(std::system(probe.c_str()) == 0);
  std::ifstream heard_file(dir.path() + "/heard");
  const std::string heard((std::istreambuf_iterator<char>(heard_file)), std::istreambuf_iterator<char>());
  BOOST_TEST(heard == "b''\n");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::store
