// The shared store's schema in PostgreSQL: tables that only pam_otp's
// functions touch, and one function per Store call, each run as one
// statement in autocommit, so that no lock is ever held between a login's
// round trips (a login stopped or killed between calls holds nothing).
// docs/design.md, "The shared store".
#pragma once

#include <span>
#include <string>

namespace otp::store {

// The version this pam_otp's logins use. It is part of every function's
// name (pam_otp.take_v1): a database of another version has no such
// function, and a login finds that out from its first call's error
// (undefined_function), not from an extra round trip.
inline constexpr int kPgSchemaVersion = 1;
inline constexpr char kPgSchema[] = "pam_otp";

// The statements `pam-otp state init` runs, in one transaction, to create
// version kPgSchemaVersion in an empty database or to bring an older one
// up to it. `$KEY` is replaced by the new hash key (hex) where one is made.
// Run by the schema's owner; the login role gets only EXECUTE (pg_grants).
std::string pg_schema_sql();

// Who may call a function. A login role gets only what a login calls; an
// administrator's role (pam-otp recovery, state list/forget/migrate) gets
// every function, so that a host's login role cannot give a user
// recovery codes that work on every host, nor forget their counts.
enum class PgRights { login, admin };
struct PgFunction {
  const char* signature;  // "pam_otp.take_v1(text[],text[],integer[],bigint[],bigint,integer)"
  PgRights rights;        // the least rights that may call it
};
std::span<const PgFunction> pg_functions();

// GRANT USAGE on the schema and EXECUTE on the functions `rights` may call
// to ROLE (quoted by the caller with quote_ident); for a login role, also
// REVOKE the administrator's, so that init makes a login role a login's.
std::string pg_grants_sql(const std::string& quoted_role, PgRights rights);

}  // namespace otp::store
