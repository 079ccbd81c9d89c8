// pam-otp state migrate's copy, into a real PostgreSQL (and, for what does
// not depend on the key, into another SQLite file: the same contract).
#include "store/migrate.h"

#include <boost/test/unit_test.hpp>

#include "postgres_server.h"
#include "store/pg_admin.h"
#include "store/pg_store.h"
#include "temp_dir.h"

namespace otp::store {
namespace {

testing::PostgresServer& server() {
  static testing::PostgresServer s;
  return s;
}

struct Fixture {
  testing::TempDir dir;
  std::string host_file = dir.path() + "/host/state.db";
  std::string skip = testing::PostgresServer::unavailable().value_or("");

  // A host's file: alice's three codes (the second used), bob's one,
  // alice remembered, and counts by name and by address.
  Fixture() {
    auto host = open_sqlite_store(host_file);
    host->set_recovery_codes("alice", "salt-a", {"a1", "a2", "a3"}, 1000);
    host->set_recovery_codes("bob", "salt-b", {"b1"}, 1000);
    const auto a2 = host->recovery_codes("alice")->codes.at(1);
    BOOST_REQUIRE(host->use_recovery_code("alice", a2.id, "a2", 1500, "sshd"));
    host->remember({"alice", std::string(64, 'k'), "sshd", 2000, 9000});
    for (std::int64_t at : {2000, 2000, 2100}) BOOST_REQUIRE(!host->take({{kSendUser, "alice", 100, 3600}}, at));
    BOOST_REQUIRE(!host->take({{kSendRhost, std::string(64, 'r'), 100, 3600}}, 2100));
    BOOST_REQUIRE(!host->take({{kRecoveryTried, "alice", 100, 3600}}, 2200));
  }
  bool skipped() const {
    if (!skip.empty()) BOOST_TEST_MESSAGE("skipped: " << skip);
    return !skip.empty();
  }
  StateExport exported() const { return export_sqlite_store(host_file, 3000); }
  std::unique_ptr<Store> shared(const Secret& key = Secret()) {
    const std::string db = "migrate" + std::to_string(++databases());
    server().sql("CREATE DATABASE " + db);
    server().ensure_login_role();
    pg_init(server().admin(db), "pam_otp_login", std::chrono::seconds(30), key, testing::PostgresServer::kAdminRole);
    // (Migrating is an administrator's: it gives users their codes.)
    return open_pg_store(server().store_admin(db), std::chrono::seconds(30));
  }
  static int& databases() {
    static int n = 0;
    return n;
  }
};

// Everything that does not depend on the hash key, checked in `to`.
void check_copied(Store& to) {
  const auto alice = to.recovery_codes("alice");
  BOOST_REQUIRE(alice);
  BOOST_TEST(alice->salt == "salt-a");
  BOOST_REQUIRE(alice->codes.size() == 3u);
  BOOST_TEST(!alice->codes[0].used_at);
  BOOST_TEST(alice->codes[1].used_at.value_or(0) == 1500);  // used on the host: used in the fleet
  BOOST_TEST(alice->codes[1].used_by == "sshd");
  BOOST_TEST(!to.use_recovery_code("alice", alice->codes[1].id, "a2", 3000, "sshd"));
  BOOST_TEST(to.count(kSendUser, "alice", 0) == 3);
  BOOST_TEST(to.count(kSendUser, "alice", 2000) == 1);  // their times kept
  BOOST_TEST(to.count(kRecoveryTried, "alice", 0) == 1);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(state_migrate, Fixture)

BOOST_AUTO_TEST_CASE(a_host_file_is_copied_once_and_a_second_run_adds_nothing) {
  if (skipped()) return;
  auto to = shared();
  const auto first = migrate_state(exported(), *to);
  BOOST_TEST(first.users_copied == 2);
  BOOST_TEST(first.events_copied == 4);  // three sends by name, one recovery try
  // Another key: what it keys by hash cannot be matched in the fleet's store.
  BOOST_TEST(first.remembered_skipped == 1);
  BOOST_TEST(first.address_events_skipped == 1);
  BOOST_TEST(first.conflicts.empty());
  check_copied(*to);
  const auto second = migrate_state(exported(), *to);
  BOOST_TEST(second.users_copied == 0);
  BOOST_TEST(second.users_present == 2);
  BOOST_TEST(second.events_copied == 0);
  BOOST_TEST(second.events_present == 4);
  check_copied(*to);  // nothing doubled
}

BOOST_AUTO_TEST_CASE(with_the_hosts_key_remembered_logins_and_address_counts_come_too) {
  if (skipped()) return;
  auto to = shared(exported().hash_key);
  const auto report = migrate_state(exported(), *to);
  BOOST_TEST(report.remembered_copied == 1);
  BOOST_TEST(report.remembered_skipped == 0);
  BOOST_TEST(report.address_events_skipped == 0);
  BOOST_TEST(to->is_remembered("alice", std::string(64, 'k'), 3000, 0));
  BOOST_TEST(to->count(kSendRhost, std::string(64, 'r'), 0) == 1);
}

BOOST_AUTO_TEST_CASE(other_codes_in_the_shared_store_are_a_conflict_left_alone) {
  if (skipped()) return;
  auto to = shared();
  to->set_recovery_codes("alice", "salt-x", {"x1"}, 500);  // issued on another host
  const auto report = migrate_state(exported(), *to);
  BOOST_REQUIRE(report.conflicts.size() == 1u);
  BOOST_TEST(report.conflicts[0].find("alice has other recovery codes") != std::string::npos);
  BOOST_TEST(to->recovery_codes("alice")->salt == "salt-x");
  BOOST_TEST(report.users_copied == 1);  // bob's
}

// A code used on another host after the first migration stays used; one
// used here since is marked used there by the next run.
BOOST_AUTO_TEST_CASE(uses_on_either_side_are_merged_never_undone) {
  if (skipped()) return;
  auto to = shared();
  migrate_state(exported(), *to);
  auto there = to->recovery_codes("alice");
  BOOST_REQUIRE(to->use_recovery_code("alice", there->codes[2].id, "a3", 2500, "sudo"));
  auto host = open_sqlite_store(host_file);
  BOOST_REQUIRE(host->use_recovery_code("alice", host->recovery_codes("alice")->codes[0].id, "a1", 2600, "su"));
  migrate_state(exported(), *to);
  there = to->recovery_codes("alice");
  BOOST_TEST(there->codes[0].used_at.value_or(0) == 2600);
  BOOST_TEST(there->codes[2].used_at.value_or(0) == 2500);
}

// Into an SQLite file (the same contract): everything but what is keyed.
BOOST_AUTO_TEST_CASE(the_copy_holds_for_any_store) {
  auto to = open_sqlite_store(dir.path() + "/other/state.db");
  const auto report = migrate_state(exported(), *to);
  BOOST_TEST(report.users_copied == 2);
  check_copied(*to);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::store
