// A fleet of three hosts sharing one PostgreSQL store: each host its own
// configuration, password file, local state directory and PAM stack
// (pam_wrapper), and its own network namespace, reaching one real
// PostgreSQL 15 in a namespace of its own over a veth pair, with TLS
// verified against the server's address on that link; logins go from one
// host to the next as a user spraying a pool of bastions would. (A host's
// logins run in this process, its thread moved into the host's namespace
// for them; the mock provider is reached from there through a relay on the
// host's own loopback.) The 200 logins at once run on loopback instead:
// they are processes of their own.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <syslog.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include "child_process.h"
#include "netns.h"
#include "pam_harness.h"
#include "postgres_server.h"
#include "store/pg_admin.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "temp_dir.h"
#include "time_bound.h"

using namespace otp::testing;

namespace {

// The fleet's network: the database's namespace with one veth pair to
// each host's (10.X.N.0/30, .1 the database's side) and one to this
// process's own (10.X.0.0/30), where pam-otp runs as from an
// administrator's workstation. X is one that no address here uses yet, so
// that two test programs at once (ctest -j) do not share a subnet.
struct Network {
  std::string prefix = free_prefix();
  NetNs db{"otp-db"};
  std::array<std::unique_ptr<NetNs>, 3> hosts;
  std::unique_ptr<PostgresServer> server;

  Network() {
    const std::string tag = "v" + std::to_string(::getpid());  // (interface names: at most 15 bytes)
    connect_namespaces(&db, tag + "d0", address(0, 1) + "/30", nullptr, tag + "a0", address(0, 2) + "/30");
    PostgresOptions options;
    options.netns = &db;
    options.listen.push_back(address(0, 1));
    for (int h = 0; h < 3; ++h) {
      hosts[h] = std::make_unique<NetNs>("otp-h" + std::to_string(h + 1));
      connect_namespaces(&db, tag + "d" + std::to_string(h + 1), address(h + 1, 1) + "/30", hosts[h].get(),
                         tag + "h" + std::to_string(h + 1), address(h + 1, 2) + "/30");
      options.listen.push_back(address(h + 1, 1));
    }
    server = std::make_unique<PostgresServer>(options);
  }
  static std::string free_prefix() {
    for (int i = 0; i < 100; ++i) {
      const std::string prefix = "10." + std::to_string(100 + (::getpid() + i) % 100) + ".";
      if (!address_in_use(prefix)) return prefix;
    }
    throw std::runtime_error("no free 10.1xx.0.0/16 for the fleet's network");
  }
  // 10.X.link.end: link 0 is this process's, 1-3 the hosts'.
  std::string address(int link, int end) const { return prefix + std::to_string(link) + "." + std::to_string(end); }
};

// Host h cut off from the database while this lives: the database's
// answers to it go to a blackhole route, so its packets get neither an
// answer nor a refusal (and its link, carrier and neighbour entries are
// left as they are, ready for when the cut ends).
class Cut {
 public:
  Cut(const Network& n, int h) : n_(n), route_("route add blackhole " + n.address(h + 1, 2) + "/32") { n_.db.ip(route_); }
  ~Cut() {
    try {
      n_.db.ip("route del" + route_.substr(std::string("route add").size()));
    } catch (...) {
    }
  }

 private:
  const Network& n_;
  std::string route_;
};

// The network, made at the first test that needs it (after removing what
// a test program killed before had left); a failure to make it fails every
// such test with its words, and is not tried again.
Network& network() {
  static std::string error;
  static std::unique_ptr<Network> n;
  if (!n && error.empty()) {
    try {
      NetNs::sweep("otp-");
      n = std::make_unique<Network>();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  if (!n) throw std::runtime_error("the fleet's network could not be made: " + error);
  return *n;
}

PostgresServer& server() { return *network().server; }

// Half a second of store_timeout, more where valgrind or a sanitizer makes
// connecting (libpq, TLS, SCRAM) slow.
std::string half_a_second_of_store() { return "store_timeout = " + std::to_string(0.5 * slowdown()); }

struct Fleet {
  std::array<std::unique_ptr<PamHarness>, 3> hosts;
  std::string skip, db;
  std::array<std::unique_ptr<NamespaceRelay>, 3> relays;  // each host's way to the mock provider

  Fleet() {
    if (auto why = PostgresServer::unavailable()) skip = *why;
    for (auto& host : hosts) host = std::make_unique<PamHarness>();
  }
  // The database and the hosts' relays, for the tests that run in the
  // network namespaces; false (after saying why) where they cannot run.
  bool in_namespaces() {
    if (skipped()) return false;
    if (auto why = NetNs::unavailable()) {
      BOOST_TEST_MESSAGE("skipped: " << *why);
      return false;
    }
    db = server().new_store_database();
    for (int h = 0; h < 3; ++h)
      relays[h] = std::make_unique<NamespaceRelay>(*network().hosts[h], port_of(hosts[h]->mock_url()));
    return true;
  }
  static int port_of(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }
  bool skipped() const {
    if (!skip.empty()) BOOST_TEST_MESSAGE("skipped: " << skip);
    return !skip.empty();
  }
  // Every host: the same store and policy, its own files, the database at
  // its own link's address and the provider through its relay.
  void configure(const std::string& top) {
    for (int h = 0; h < 3; ++h) {
      PamHarness& host = *hosts[h];
      const std::string password = host.dir() + "/db-password";
      std::ofstream(password) << PostgresServer::login_password() << "\n";
      ::chmod(password.c_str(), 0600);
      std::string text = host.default_config("state_store = \"" +
                                             server().uri("pam_otp_login", db, network().address(h + 1, 1)) +
                                             "\"\nstate_password_file = \"" + password + "\"\n" + top);
      const std::string mock = host.mock_url(), relay = "https://127.0.0.1:" + std::to_string(relays[h]->port());
      for (auto at = text.find(mock); at != std::string::npos; at = text.find(mock, at + relay.size()))
        text.replace(at, mock.size(), relay);
      host.write_config(text);
    }
  }
  PamResult login(int host, const std::string& user, const std::string& rhost, std::vector<Responder> answers) {
    hosts[host]->rhost = rhost;
    InNamespace there(*network().hosts[host]);
    return hosts[host]->authenticate(user, std::move(answers));
  }
  // pam-otp on a host, as root there would run it (with the administrator's
  // role for what a login role may not do).
  std::string admin_cli(int host, const std::string& args) const {
    const std::string password = hosts[host]->dir() + "/admin-password";
    std::ofstream(password) << PostgresServer::login_password() << "\n";
    ::chmod(password.c_str(), 0600);
    return cli(host, args + " --store " + server().uri(PostgresServer::kAdminRole, db, network().address(host + 1, 1)) +
                         " --password-file " + password);
  }
  // (Run from the host's namespace: the host's config names the database at
  // the host's own link.)
  std::string cli(int host, const std::string& args) const {
    InNamespace there(*network().hosts[host]);
    std::vector<std::string> more{"--config", hosts[host]->config_path()};
    for (const auto& arg : hosts[host]->slow_build_arguments()) more.insert(more.end(), {"--arg", arg});
    const CommandResult r = run_pam_otp(args, more);
    BOOST_REQUIRE_MESSAGE(r.status == 0, "pam-otp " << args << ": " << r.output);
    return r.output;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(fleet, Fleet)

// A recovery code issued on host 1 and used there is refused on hosts 2 and 3.
BOOST_AUTO_TEST_CASE(a_recovery_code_works_once_in_the_whole_fleet) {
  if (!in_namespaces()) return;
  configure("recovery = \"always\"");
  std::smatch m;
  const std::string out = admin_cli(0, "recovery issue alice --count 3");
  BOOST_REQUIRE(std::regex_search(out, m, std::regex("[a-z]{4}-[a-z]{4}-[a-z]{4}")));
  const std::string code = m.str();
  const auto used = login(0, "alice", "203.0.113.5", {say("alice-password"), say(code)});
  BOOST_TEST(used.rc == PAM_SUCCESS, used.describe());
  BOOST_TEST(used.logged("result=recovery_code"));
  for (int host : {1, 2}) {
    // The used code costs an attempt; the code sent lets alice in.
    const auto again = login(host, "alice", "203.0.113.5", {say("alice-password"), say(code), code_for("+15551234567")});
    BOOST_TEST(again.rc == PAM_SUCCESS, again.describe());
    BOOST_TEST(!again.logged("result=recovery_code"), "host " << host + 1);
  }
  BOOST_TEST(cli(2, "recovery list alice").find("2 of 3 recovery codes left") != std::string::npos);
}

// The per-user send limit counts a user's codes from every host.
BOOST_AUTO_TEST_CASE(the_send_limit_counts_across_the_fleet) {
  if (!in_namespaces()) return;
  configure("send_limit = { user = \"3/15m\" }");
  for (int host : {0, 1, 2}) {
    const auto r = login(host, "carol", "203.0.113." + std::to_string(10 + host),
                         {say("carol-password"), code_for("+15557654321")});
    BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());
  }
  for (int host : {0, 1, 2}) {
    const auto r = login(host, "carol", "203.0.113.20", {say("carol-password"), code_for("+15557654321")});
    BOOST_TEST(r.rc == PAM_MAXTRIES, r.describe());
    BOOST_TEST(r.logged("send_limit.user 3/15m reached for carol"), "host " << host + 1);
  }
}

// A login remembered on host 1 is honoured on host 2 for the same client,
// and not for another.
BOOST_AUTO_TEST_CASE(a_login_remembered_on_one_host_is_honoured_on_the_next) {
  if (!in_namespaces()) return;
  configure("remember = 3600\nremember_services = [\"" + hosts[0]->service + "\"]");
  BOOST_TEST(login(0, "bob", "203.0.113.5", {say("bob-password"), code_for("bob@example.com")}).rc == PAM_SUCCESS);
  const auto next = login(1, "bob", "203.0.113.5", {say("bob-password")});
  BOOST_TEST(next.rc == PAM_SUCCESS, next.describe());
  BOOST_TEST(next.logged("result=remembered"));
  const auto other = login(2, "bob", "203.0.113.6", {say("bob-password"), code_for("bob@example.com")});
  BOOST_TEST(other.rc == PAM_SUCCESS, other.describe());
  BOOST_TEST(!other.logged("result=remembered"));
}

// The database stopped in the middle of the fleet's logins: every host's
// logins go on as documented (a code asked, the send counted in that
// host's file) within the budget; started again, the fleet is back on the
// shared state with nothing lost: the remembered login and the counts of
// before the outage are there, and the sends of the outage stay counted in
// the hosts' files.
BOOST_AUTO_TEST_CASE(the_database_stopped_mid_run_and_started_again) {
  if (!in_namespaces()) return;
  configure("remember = 3600\nremember_services = [\"" + hosts[0]->service +
            "\"]\nsend_limit = { user = \"10/15m\" }\n" + half_a_second_of_store());
  BOOST_TEST(login(0, "bob", "203.0.113.5", {say("bob-password"), code_for("bob@example.com")}).rc == PAM_SUCCESS);
  BOOST_TEST(login(1, "bob", "203.0.113.5", {say("bob-password")}).logged("result=remembered"));
  server().stop();
  for (int host : {0, 1, 2}) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = login(host, "bob", "203.0.113.5", {say("bob-password"), code_for("bob@example.com")});
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());  // a code asked: not remembered
    BOOST_TEST(!r.logged("result=remembered"), "host " << host + 1);
    BOOST_TEST(r.logged_at(LOG_ERR, "the send limit is counted in the local state file"), "host " << host + 1);
    // (The store's half second, and the login's own work: a code sent and verified.)
    BOOST_TEST(took < within(std::chrono::milliseconds(1500)), "host " << host + 1);
  }
  server().start();
  for (int host : {0, 1, 2}) {
    BOOST_TEST(otp::store::open_sqlite_store(hosts[host]->state_path())->count(otp::store::kSendUser, "bob", 0) == 1,
               "host " << host + 1);
    const auto r = login(host, "bob", "203.0.113.5", {say("bob-password")});
    BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());
    BOOST_TEST(r.logged("result=remembered"), "host " << host + 1);
  }
  auto shared = otp::store::open_pg_store(server().store_admin(db), std::chrono::seconds(10));
  BOOST_TEST(shared->count(otp::store::kSendUser, "bob", 0) == 1);  // the send before the outage
}

// A host cut off from the database (the database's answers to it
// dropped: neither an answer nor a refusal) spends at
// most store_timeout on the store in a login, which goes on as when the
// database is down; the other hosts keep the shared state meanwhile, and
// the cut host is back on it once its link is.
BOOST_AUTO_TEST_CASE(a_host_cut_off_from_the_database_spends_store_timeout_and_no_more) {
  if (!in_namespaces()) return;
  configure("send_limit = { user = \"10/15m\" }\n" + half_a_second_of_store());
  auto link = std::make_unique<Cut>(network(), 1);
  const auto start = std::chrono::steady_clock::now();
  const auto cut = login(1, "carol", "203.0.113.9", {say("carol-password"), code_for("+15557654321")});
  const auto took = std::chrono::steady_clock::now() - start;
  const auto first = login(0, "carol", "203.0.113.9", {say("carol-password"), code_for("+15557654321")});
  const auto third = login(2, "carol", "203.0.113.9", {say("carol-password"), code_for("+15557654321")});
  link.reset();
  BOOST_TEST(cut.rc == PAM_SUCCESS, cut.describe());
  BOOST_TEST(cut.logged_at(LOG_ERR, "the send limit is counted in the local state file"));
  // (The store's half second, and the login's own work: a code sent and verified.)
  BOOST_TEST(took < within(std::chrono::milliseconds(1500)));
  BOOST_TEST(first.rc == PAM_SUCCESS, first.describe());
  BOOST_TEST(third.rc == PAM_SUCCESS, third.describe());
  BOOST_TEST(!first.logged_at(LOG_ERR, "counted in the local state file"));
  auto shared = otp::store::open_pg_store(server().store_admin(db), std::chrono::seconds(10));
  BOOST_TEST(shared->count(otp::store::kSendUser, "carol", 0) == 2);
  BOOST_TEST(otp::store::open_sqlite_store(hosts[1]->state_path())->count(otp::store::kSendUser, "carol", 0) == 1);
  const auto back = login(1, "carol", "203.0.113.9", {say("carol-password"), code_for("+15557654321")});
  BOOST_TEST(back.rc == PAM_SUCCESS, back.describe());
  BOOST_TEST(!back.logged_at(LOG_ERR, "counted in the local state file"));
  BOOST_TEST(shared->count(otp::store::kSendUser, "carol", 0) == 3);
}

// 200 logins at once, spread over the three hosts, against a server that
// takes 20 connections (17 for logins): every login completes within its
// budget (those the server turns away count their send in their host's own
// file), and every send is counted once, in one place or the other; only a
// count sent whose answer never came is counted in both (never lost).
BOOST_AUTO_TEST_CASE(two_hundred_logins_at_once_against_twenty_connections) {
  if (skipped()) return;
  PostgresOptions small;
  small.max_connections = 20;
  PostgresServer narrow(small);
  narrow.ensure_login_role();
  narrow.sql("CREATE DATABASE fleet");
  otp::store::pg_init(narrow.admin("fleet"), "pam_otp_login", std::chrono::seconds(30), otp::Secret(),
                      PostgresServer::kAdminRole);
  std::string users;
  for (int i = 0; i < kLoadUsers; ++i) users += load_user(i) + " phone=" + load_phone(i) + "\n";
  std::vector<std::string> service_files;
  for (int h = 0; h < 3; ++h) {
    PamHarness& host = *hosts[h];
    host.service = std::string(kLoadService) + std::to_string(h + 1);
    std::ofstream passdb(host.passdb_path(), std::ios::app);
    for (int i = 0; i < kLoadUsers; ++i) passdb << load_user(i) << ":load-password:" << host.service << "\n";
    host.write_users(users);
    const std::string password = host.dir() + "/db-password";
    std::ofstream(password) << PostgresServer::login_password() << "\n";
    ::chmod(password.c_str(), 0600);
    host.write_config(host.default_config("state_store = \"" + narrow.uri("pam_otp_login", "fleet") +
                                          "\"\nstate_password_file = \"" + password +
                                          "\"\nsend_limit = { user = \"5/15m\", rhost = \"1000/1h\" }"));
    service_files.push_back("/etc/pam.d/" + host.service);
    BOOST_REQUIRE_MESSAGE(::access(service_files.back().c_str(), F_OK) != 0, service_files.back() + " exists; not touching it");
    std::ofstream(service_files.back()) << host.stack_text();
  }
  auto settings = Shared::mock().settings();
  settings.max_sends = 1000;
  Shared::mock().configure(settings);
  std::vector<std::string> env = nss_only_environment();
  env.push_back("OTP_LOGIN_RHOST=203.0.113.77");
  std::vector<pid_t> children;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kLoadUsers; ++i)
    children.push_back(spawn_process({PAM_OTP_LOGIN_PATH, hosts[i % 3]->service, load_user(i), "load-password",
                                      hosts[0]->mock_url(), Shared::pki().ca_cert, load_phone(i)}, env, "", ""));
  int succeeded = 0;
  for (pid_t pid : children) {
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) ++succeeded;
  }
  const auto took = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
  for (const auto& f : service_files) ::unlink(f.c_str());
  BOOST_TEST_MESSAGE("200 logins over three hosts took " << took.count() << " s");
  BOOST_TEST(succeeded == kLoadUsers);
  BOOST_TEST(Shared::mock().outbox().size() == static_cast<std::size_t>(kLoadUsers));
  auto shared = otp::store::open_pg_store(narrow.store_admin("fleet"), std::chrono::seconds(30));
  int in_shared = 0, in_files = 0, wrong = 0, twice = 0;
  for (int i = 0; i < kLoadUsers; ++i) {
    const int there = shared->count(otp::store::kSendUser, load_user(i), 0);
    const std::string file = hosts[i % 3]->state_path();
    const int here = std::filesystem::exists(file) ? otp::store::open_sqlite_store(file)->count(otp::store::kSendUser, load_user(i), 0) : 0;
    in_shared += there;
    in_files += here;
    if (there + here == 2 && there == 1) ++twice;
    else if (there + here != 1) ++wrong;
  }
  BOOST_TEST_MESSAGE("sends counted in the database: " << in_shared << ", in the hosts' files: " << in_files
                                                       << " (both: " << twice << ")");
  BOOST_TEST(wrong == 0);
  BOOST_TEST(in_shared > 0);
}

BOOST_AUTO_TEST_SUITE_END()
