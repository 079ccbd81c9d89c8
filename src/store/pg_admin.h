// What pam-otp does to the shared store beyond a login's calls: create or
// upgrade the schema (state init), with a role that may.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "store/pg_connection.h"

namespace otp::store {

struct PgInitResult {
  int found_version = 0;  // 0: there was no schema
  bool key_made = false;  // a new hash key (a new store)
  bool key_differs = false;  // a key was given, and the store already had another
  std::string connection;  // PgConnection::describe()
};

// Creates the schema of kPgSchemaVersion in the target database, or brings
// an older one up to it, in one transaction (two at once: one waits for
// the other); GRANTs a login's rights, and no more, to `grant_role` and an
// administrator's to `admin_role`, each when not empty.
// Refuses a newer schema. Throws Error.
// `key`: the hash key a new store gets (a host's, so that its remembered
// logins and per-address counts can be migrated); random when empty, and
// never replacing an existing store's (key_kept then says whether it was
// the same).
PgInitResult pg_init(const PgConnectOptions& admin, const std::string& grant_role, std::chrono::milliseconds budget,
                     const Secret& key = Secret(), const std::string& admin_role = "");

// What pam-otp check says about the shared store, as the login role sees
// it. Throws Error when it cannot connect (unreachable, TLS, authentication).
struct PgReport {
  std::string connection;     // PgConnection::describe(): where, TLS, password
  std::string server_version;
  int schema_version = 0;     // 0: no pam_otp schema
  std::string isolation;      // the role's default_transaction_isolation
  std::vector<std::string> missing_functions;  // a login's functions the role cannot execute
  std::vector<std::string> admin_functions;    // an administrator's it can (a login needs none)
  std::vector<std::string> table_rights;       // rights it has on pam_otp's tables (it needs none)
};
PgReport pg_report(const PgConnectOptions& login, std::chrono::milliseconds budget);

}  // namespace otp::store
