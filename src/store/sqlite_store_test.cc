#include "store/sqlite_store.h"

#include <boost/test/unit_test.hpp>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "temp_dir.h"
#include "time_bound.h"

namespace otp::store {
namespace {

mode_t mode_of(const std::string& path) {
  struct stat st {};
  BOOST_REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// A value read straight from the file, with SQLite itself.
std::string query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr)
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

// SQL run straight on the file, with SQLite itself (what a damaged or
// hand-edited file may hold).
void execute(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  BOOST_REQUIRE(rc == SQLITE_OK);
}

std::string error_of(const std::string& path) {
  try {
    open_sqlite_store(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

struct Fixture {
  testing::TempDir dir;
  std::string path = dir.path() + "/state/state.db";
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(sqlite_store, Fixture)

BOOST_AUTO_TEST_CASE(creates_a_private_directory_and_file_with_the_schema) {
  ::umask(022);
  auto store = open_sqlite_store(path);
  BOOST_TEST(mode_of(dir.path() + "/state") == 0700u);
  BOOST_TEST(mode_of(path) == 0600u);
  BOOST_TEST(query(path, "PRAGMA user_version") == std::to_string(kSchemaVersion));
  BOOST_TEST(query(path, "PRAGMA journal_mode") == "wal");
  const Secret key = store->hash_key();
  BOOST_TEST(key.size() == 32u);
  store.reset();
  BOOST_TEST(open_sqlite_store(path)->hash_key().reveal() == key.reveal());  // made once
  BOOST_TEST(sqlite_store_health(path) == "");
}

BOOST_AUTO_TEST_CASE(refuses_links_foreign_modes_and_newer_schemas) {
  open_sqlite_store(path).reset();
  BOOST_REQUIRE(::symlink(path.c_str(), (dir.path() + "/state/link.db").c_str()) == 0);
  BOOST_TEST(error_of(dir.path() + "/state/link.db").find("is a symbolic link") != std::string::npos);
  BOOST_REQUIRE(::symlink((dir.path() + "/state").c_str(), (dir.path() + "/linked").c_str()) == 0);
  BOOST_TEST(error_of(dir.path() + "/linked/state.db").find("linked is a symbolic link") != std::string::npos);
  BOOST_REQUIRE(::chmod(path.c_str(), 0644) == 0);
  BOOST_TEST(error_of(path).find("(mode 0644); chmod 0600 " + path) != std::string::npos);
  BOOST_TEST(sqlite_store_health(path).find("chmod 0600") != std::string::npos);
  BOOST_REQUIRE(::chmod(path.c_str(), 0600) == 0);
  BOOST_REQUIRE(::chmod((dir.path() + "/state").c_str(), 0775) == 0);
  BOOST_TEST(error_of(path).find("is writable by group or others (mode 0775)") != std::string::npos);
  BOOST_REQUIRE(::chmod((dir.path() + "/state").c_str(), 0700) == 0);
  BOOST_TEST(error_of("state.db").find("must be an absolute path") != std::string::npos);
  execute(path, "PRAGMA user_version = 99");
  BOOST_TEST(error_of(path).find("schema version 99, newer than this pam_otp's") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(health_never_creates_anything) {
  BOOST_TEST(sqlite_store_health(path) == "");
  BOOST_TEST(::access((dir.path() + "/state").c_str(), F_OK) != 0);
}

// Found by fuzz_store: text sorts after every number in SQLite, so a damaged
// row's text expiry read as "never expires".
BOOST_AUTO_TEST_CASE(damaged_rows_never_count_as_remembered_or_recent) {
  auto store = open_sqlite_store(path);
  execute(path,
          "INSERT INTO remembered VALUES('alice', 'k', 'sshd', 0, 'forever');"
          "INSERT INTO events VALUES('send_user', 'alice', 'now');");
  BOOST_TEST(!store->is_remembered("alice", "k", 1000, 0));
  BOOST_TEST(store->remembered("", 1000).empty());
  BOOST_TEST(store->count("send_user", "alice", 0) == 0);
  BOOST_TEST(!store->take({{"send_user", "alice", 1, 900}}, 1000));
}

// Each login is a connection of its own, and none checkpoints at close
// (an fsync or three per login); the WAL is checkpointed and truncated as
// it fills instead, so it stays small and nothing is lost between them.
BOOST_AUTO_TEST_CASE(one_connection_per_login_keeps_the_wal_small_and_every_send) {
  for (int i = 0; i < 300; ++i) BOOST_REQUIRE(!open_sqlite_store(path)->take({{"send_user", "u" + std::to_string(i), 5, 3600}}, 1001 + 2 * i));
  struct stat st {};
  BOOST_REQUIRE(::stat((path + "-wal").c_str(), &st) == 0);
  BOOST_TEST(st.st_size <= 80 * (4096 + 24) + 32, st.st_size);  // 64 frames and the last login's
  BOOST_TEST(query(path, "SELECT COUNT(*) FROM events") == "300");
}

// The state service's one connection checkpoints passively, about every
// 330 logins, and SQLite then writes the WAL again from its start: the file
// stays (no truncation, no blocks allocated again), bounded, and nothing is
// lost.
BOOST_AUTO_TEST_CASE(a_long_lived_store_reuses_a_bounded_wal_and_keeps_every_send) {
  SqliteOptions service;
  service.long_lived = true;
  auto store = open_sqlite_store(path, service);
  struct stat st {};
  for (int i = 0; i < 700; ++i) {  // three frames each: two checkpoints
    BOOST_REQUIRE(!store->take({{"send_user", "u" + std::to_string(i), 5, 3600}}, 1001 + 2 * i));
    BOOST_REQUIRE(::stat((path + "-wal").c_str(), &st) == 0);
    // (1000 frames, and the last commit's: a few pages more when a page splits)
    BOOST_REQUIRE_MESSAGE(st.st_size <= 1016 * (4096 + 24) + 32, "after send " << i << ": " << st.st_size);
  }
  BOOST_TEST(st.st_size > 300 * (4096 + 24), st.st_size);  // written again in place, not emptied
  BOOST_TEST(query(path, "SELECT COUNT(*) FROM events") == "700");
}

// The checkpoint needs every other connection idle; it must not wait for a
// login that reads (its busy handler would wait the whole wait budget).
BOOST_AUTO_TEST_CASE(a_checkpoint_never_waits_for_another_connection) {
  open_sqlite_store(path);
  sqlite3* reader = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &reader) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(reader, "BEGIN; SELECT COUNT(*) FROM events;", nullptr, nullptr, nullptr) == SQLITE_OK);
  // A budget far above the bound, even under valgrind: a checkpoint that
  // waited for the reader would wait all of it.
  const SqliteOptions patient{std::chrono::milliseconds(20000), true};
  const auto bound = std::chrono::milliseconds(static_cast<long>(300 * testing::slowdown()));
  for (int i = 0; i < 40; ++i) {  // past kCheckpointFrames
    const auto start = std::chrono::steady_clock::now();
    BOOST_REQUIRE(!open_sqlite_store(path, patient)->take({{"send_user", "u" + std::to_string(i), 5, 3600}}, 1001 + 2 * i));
    BOOST_TEST((std::chrono::steady_clock::now() - start < bound), "send " << i);
  }
  sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(reader);
  BOOST_TEST(query(path, "SELECT COUNT(*) FROM events") == "40");
}

// Events past the horizon, and damaged ones, go with one send in 16 (by
// the clock's second).
BOOST_AUTO_TEST_CASE(old_events_are_pruned_now_and_then) {
  open_sqlite_store(path);
  execute(path,
          "INSERT INTO events VALUES('send_user', 'old', 5);"
          "INSERT INTO events VALUES('send_user', 'old', 'text');"
          "INSERT INTO events VALUES('send_user', 'old', X'00');");
  const std::int64_t later = 40 * 86400;  // a multiple of 16
  BOOST_REQUIRE(!open_sqlite_store(path)->take({{"send_user", "a", 5, 3600}}, later + 1));
  BOOST_TEST(query(path, "SELECT COUNT(*) FROM events WHERE key = 'old'") == "3");
  BOOST_REQUIRE(!open_sqlite_store(path)->take({{"send_user", "b", 5, 3600}}, later));
  BOOST_TEST(query(path, "SELECT COUNT(*) FROM events WHERE key = 'old'") == "0");
  BOOST_TEST(query(path, "SELECT COUNT(*) FROM events") == "2");
}

// A used recovery code reaches the main file at once, so that a copy of
// state.db alone (a backup without its -wal) does not make it usable again.
BOOST_AUTO_TEST_CASE(a_used_recovery_code_is_in_the_main_file) {
  auto store = open_sqlite_store(path);
  store->set_recovery_codes("alice", "salt", {"h1", "h2"}, 1000);
  const auto batch = store->recovery_codes("alice");
  BOOST_REQUIRE(batch.has_value());
  BOOST_REQUIRE(store->use_recovery_code("alice", batch->codes.at(0).id, "h1", 2000, "sshd"));
  const std::string copy = dir.path() + "/copy.db";
  {
    std::ifstream in(path, std::ios::binary);
    std::ofstream(copy, std::ios::binary) << in.rdbuf();
  }
  BOOST_TEST(query(copy, "SELECT used_at FROM recovery_codes WHERE hash = CAST('h1' AS BLOB)") == "2000");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::store
