// The SQLite store: one database file (state_file, default
// /var/lib/pam_otp/state.db) in a directory of root's, WAL mode, schema
// versioned with PRAGMA user_version and migrated on open.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace otp::store {

inline constexpr int kSchemaVersion = 1;

struct SqliteOptions {
  // The most a store object ever waits for other processes' locks, summed
  // over all its calls (a login's whole budget).
  std::chrono::milliseconds wait_budget{1000};
  // Create the directory (0700) and the file (0600) when they are missing.
  bool create = true;
  // A store that outlives one login (the state service): the budget
  // applies to each call instead of to all of them, and the WAL is
  // checkpointed less often and kept in place (docs/design.md, "The state
  // service").
  bool long_lived = false;
};

// Opens (creating and migrating as needed) the database at path, after
// checking that neither it nor its directory is a symbolic link, both are
// owned by the effective user, the directory is writable by nobody else and
// the file readable by nobody else. Throws Error naming the file and the
// broken rule.
std::unique_ptr<Store> open_sqlite_store(const std::string& path, const SqliteOptions& options = {});

// Checks that dir is a real directory (not a symbolic link) owned by the
// effective user and writable by nobody else, creating it (0700) when it is
// missing and `create`. Throws Error naming it and the broken rule.
void check_state_directory(const std::string& dir, bool create);

// Everything a state file holds, for pam-otp state migrate (migrate.h):
// its hash key, every user's recovery codes, the unexpired remembered
// logins and the events of the last 31 days (older ones count for nothing).
struct StateExport {
  struct Event {
    std::string kind, key;
    std::int64_t at = 0;
  };
  Secret hash_key;
  std::vector<std::pair<std::string, RecoveryBatch>> recovery;  // (user, batch), by user
  std::vector<Remembered> remembered;
  std::vector<Event> events;  // by kind, key and time
};
// Reads the file at path (never creating it). Throws Error.
StateExport export_sqlite_store(const std::string& path, std::int64_t now);

// What `pam-otp check` says about the store: empty when healthy (or not
// created yet and creatable), else why not. Never creates the directory or
// the file (an existing one is migrated, as the next login would).
std::string sqlite_store_health(const std::string& path);

}  // namespace otp::store
