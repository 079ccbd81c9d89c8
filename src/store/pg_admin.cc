#include "store/pg_admin.h"

#include <algorithm>

#include "store/pg_schema.h"

namespace otp::store {
namespace {

// Serialises two `state init`s on one database (an arbitrary constant: the
// first 8 bytes of "pam_otp\0").
constexpr char kInitLock[] = "8097880116112000";

std::string hex_of(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) hex += digits[c >> 4], hex += digits[c & 15];
  return hex;
}

}  // namespace

PgInitResult pg_init(const PgConnectOptions& admin, const std::string& grant_role, std::chrono::milliseconds budget,
                     const Secret& key, const std::string& admin_role) {
  const auto deadline = PgClock::now() + budget;
  PgConnection c(admin, deadline);
  PgInitResult result;
  result.connection = c.describe();
  c.run("BEGIN", {}, deadline);
  c.run("SELECT pg_advisory_xact_lock($1)", {kInitLock}, deadline);
  const auto exists = c.run("SELECT to_regclass('pam_otp.meta') IS NOT NULL", {}, deadline);
  if (!exists.empty() && exists[0][0] == std::optional<std::string>("t")) {
    const auto rows = c.run("SELECT schema_version FROM pam_otp.meta", {}, deadline);
    if (!rows.empty() && rows[0][0]) result.found_version = std::stoi(*rows[0][0]);
  }
  if (result.found_version > kPgSchemaVersion)
    throw Error("the database has pam_otp schema version " + std::to_string(result.found_version) +
                ", newer than this pam-otp's (" + std::to_string(kPgSchemaVersion) + "): use the newer pam-otp");
  c.run(pg_schema_sql(), {}, deadline);
  if (!key.empty() && key.size() != 32) throw Error("the hash key to use is not 32 bytes");
  // A new random key is made by the server (two random UUIDs, 244 bits,
  // hashed), so that it is never a parameter a statement log could show; a
  // host's key (--key-from) has to be sent.
  std::vector<std::string> params{std::to_string(kPgSchemaVersion), key.empty() ? "" : hex_of(key.reveal())};
  const auto made = c.run(
      "INSERT INTO pam_otp.meta(schema_version, hash_key) VALUES ($1, CASE WHEN $2 = '' THEN "
      "sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')) ELSE decode($2, 'hex') END) "
      "ON CONFLICT (one) DO UPDATE SET schema_version = excluded.schema_version RETURNING (xmax = 0)",
      params, deadline);
  result.key_made = !made.empty() && made[0][0] == std::optional<std::string>("t");
  if (!key.empty() && !result.key_made) {
    const auto there = c.run("SELECT encode(hash_key, 'hex') = $1 FROM pam_otp.meta", {params[1]}, deadline);
    result.key_differs = there.empty() || there[0][0] != std::optional<std::string>("t");
  }
  wipe(params[1]);
  if (!grant_role.empty()) c.run(pg_grants_sql(c.quote_identifier(grant_role), PgRights::login), {}, deadline);
  if (!admin_role.empty()) c.run(pg_grants_sql(c.quote_identifier(admin_role), PgRights::admin), {}, deadline);
  c.run("COMMIT", {}, deadline);
  return result;
}

PgReport pg_report(const PgConnectOptions& login, std::chrono::milliseconds budget) {
  const auto deadline = PgClock::now() + budget;
  PgConnection c(login, deadline);
  PgReport r;
  r.connection = c.describe();
  const auto facts = c.run("SELECT current_setting('server_version'), current_setting('default_transaction_isolation'), "
                           "to_regclass('pam_otp.meta') IS NOT NULL",
                           {}, deadline);
  if (facts.size() == 1 && facts[0].size() == 3) {
    r.server_version = facts[0][0].value_or("?");
    r.isolation = facts[0][1].value_or("?");
  }
  for (const PgFunction& f : pg_functions()) {
    const auto rows =
        c.run("SELECT to_regprocedure($1) IS NOT NULL AND has_function_privilege($1, 'EXECUTE')", {f.signature}, deadline);
    const bool may = !rows.empty() && rows[0][0] == std::optional<std::string>("t");
    if (f.rights == PgRights::login && !may) r.missing_functions.emplace_back(f.signature);
    if (f.rights == PgRights::admin && may) r.admin_functions.emplace_back(f.signature);
  }
  const auto rights = c.run(
      "SELECT t || ': ' || p FROM unnest(array['meta','recovery_batches','recovery_codes','remembered','events']) t, "
      "unnest(array['SELECT','INSERT','UPDATE','DELETE']) p "
      "WHERE to_regclass('pam_otp.' || t) IS NOT NULL AND has_table_privilege('pam_otp.' || t, p)",
      {}, deadline);
  for (const auto& row : rights) r.table_rights.push_back(row[0].value_or("?"));
  // The version, through the function a login calls (as a login finds it).
  if (std::find(r.missing_functions.begin(), r.missing_functions.end(), "pam_otp.hash_key_v1()") ==
      r.missing_functions.end())
    r.schema_version = kPgSchemaVersion;
  return r;
}

}  // namespace otp::store
