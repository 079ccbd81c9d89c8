// What pam-otp does to the shared store beyond a login's calls: create or
// upgrade the schema (state init), with a role that may.
#pragma once

#include <chrono>
#include <string>

#include "store/pg_connection.h"

namespace otp::store {

struct PgInitResult {
  int found_version = 0;  // 0: there was no schema
  bool key_made = false;  // a new hash key (a new store)
  std::string connection;  // PgConnection::describe()
};

// Creates the schema of kPgSchemaVersion in the target database, or brings
// an older one up to it, in one transaction (two at once: one waits for
// the other); GRANTs a login's rights to `grant_role` when not empty.
// Refuses a newer schema. Throws Error.
PgInitResult pg_init(const PgConnectOptions& admin, const std::string& grant_role, std::chrono::milliseconds budget);

}  // namespace otp::store
