#include "store/pg_schema.h"

namespace otp::store {
namespace {

// Tables: the same rows as the SQLite file's (sqlite_store.cc), with
// PostgreSQL's types; salts and hashes travel as hex text.
const char kTables[] = R"SQL(
CREATE SCHEMA IF NOT EXISTS pam_otp;
REVOKE ALL ON SCHEMA pam_otp FROM PUBLIC;
CREATE TABLE IF NOT EXISTS pam_otp.meta(
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  schema_version integer NOT NULL,
  hash_key bytea NOT NULL CHECK (octet_length(hash_key) = 32));
CREATE TABLE IF NOT EXISTS pam_otp.recovery_batches(
  "user" text PRIMARY KEY, salt bytea NOT NULL, issued_at bigint NOT NULL);
CREATE TABLE IF NOT EXISTS pam_otp.recovery_codes(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "user" text NOT NULL REFERENCES pam_otp.recovery_batches ON DELETE CASCADE,
  hash bytea NOT NULL, used_at bigint, used_by text);
CREATE INDEX IF NOT EXISTS recovery_codes_by_user ON pam_otp.recovery_codes("user");
CREATE TABLE IF NOT EXISTS pam_otp.remembered(
  "user" text NOT NULL, key_hash text NOT NULL, service text NOT NULL,
  created_at bigint NOT NULL, expires_at bigint NOT NULL, PRIMARY KEY("user", key_hash));
CREATE TABLE IF NOT EXISTS pam_otp.events(kind text NOT NULL, key text NOT NULL, at bigint NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_key ON pam_otp.events(kind, key, at);
CREATE INDEX IF NOT EXISTS events_by_time ON pam_otp.events(at);
)SQL";

// Every function: SECURITY DEFINER (the login role has no right on the
// tables, only EXECUTE on these), a fixed search_path (no object of the
// caller's can stand in for ours), and VOLATILE (a fresh snapshot for
// each statement: take_v1 counts after its locks).
#define PAM_OTP_FN_ATTRS "LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pam_otp, pg_temp"

const char kFunctions[] = R"SQL(
CREATE OR REPLACE FUNCTION pam_otp.hash_key_v1() RETURNS text )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
BEGIN
  RETURN (SELECT encode(hash_key, 'hex') FROM pam_otp.meta);
END $$;

CREATE OR REPLACE FUNCTION pam_otp.set_recovery_codes_v1(u text, salt_hex text, hashes_hex text[], now bigint)
RETURNS void )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
BEGIN
  DELETE FROM pam_otp.recovery_batches WHERE "user" = u;
  IF coalesce(array_length(hashes_hex, 1), 0) > 0 THEN
    INSERT INTO pam_otp.recovery_batches("user", salt, issued_at) VALUES (u, decode(salt_hex, 'hex'), now);
    INSERT INTO pam_otp.recovery_codes("user", hash)
      SELECT u, decode(h, 'hex') FROM unnest(hashes_hex) WITH ORDINALITY AS t(h, n) ORDER BY n;
  END IF;
END $$;

CREATE OR REPLACE FUNCTION pam_otp.recovery_codes_v1(u text)
RETURNS TABLE(salt text, issued_at bigint, id bigint, hash text, used_at bigint, used_by text) )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
BEGIN
  RETURN QUERY SELECT encode(b.salt, 'hex'), b.issued_at, c.id, encode(c.hash, 'hex'), c.used_at, c.used_by
    FROM pam_otp.recovery_batches b LEFT JOIN pam_otp.recovery_codes c ON c."user" = b."user"
    WHERE b."user" = u ORDER BY c.id;
END $$;

CREATE OR REPLACE FUNCTION pam_otp.use_recovery_code_v1(u text, code_id bigint, hash_hex text, now bigint, service text)
RETURNS boolean )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
BEGIN
  -- A used code stays used: this commit waits for its WAL to be flushed,
  -- whatever the role or the database says.
  PERFORM set_config('synchronous_commit', 'on', true);
  UPDATE pam_otp.recovery_codes SET used_at = now, used_by = service
    WHERE id = code_id AND "user" = u AND hash = decode(hash_hex, 'hex') AND used_at IS NULL;
  RETURN FOUND;
END $$;

CREATE OR REPLACE FUNCTION pam_otp.remember_v1(u text, k text, svc text, created bigint, expires bigint)
RETURNS void )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
BEGIN
  -- (Expired by the earlier clock: see take_v1's pruning.)
  DELETE FROM pam_otp.remembered r
    WHERE r.expires_at <= least(created, extract(epoch FROM statement_timestamp())::bigint);
  INSERT INTO pam_otp.remembered AS r("user", key_hash, service, created_at, expires_at)
    VALUES (u, k, svc, created, expires)
    ON CONFLICT ON CONSTRAINT remembered_pkey DO UPDATE
      SET service = excluded.service, created_at = excluded.created_at, expires_at = excluded.expires_at;
END $$;

CREATE OR REPLACE FUNCTION pam_otp.is_remembered_v1(u text, key_hash text, now bigint, not_before bigint)
RETURNS boolean )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM pam_otp.remembered r WHERE r."user" = u AND r.key_hash = is_remembered_v1.key_hash
                   AND r.expires_at > now AND r.created_at > not_before);
END $$;

CREATE OR REPLACE FUNCTION pam_otp.remembered_v1(u text, now bigint)
RETURNS TABLE("user" text, key_hash text, service text, created_at bigint, expires_at bigint) )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
BEGIN
  RETURN QUERY SELECT r."user", r.key_hash, r.service, r.created_at, r.expires_at FROM pam_otp.remembered r
    WHERE (u = '' OR r."user" = u) AND r.expires_at > now ORDER BY r."user", r.expires_at;
END $$;

-- One event under each (kind, key) unless a limit is reached; then nothing,
-- and the first limit reached (0-based) with the seconds until a slot frees.
-- The keys are serialised with transaction-level advisory locks, taken in
-- one order everywhere (no deadlock), so that two hosts counting the same
-- key cannot both see room for one more; lock_timeout bounds the wait by
-- the login's budget.
CREATE OR REPLACE FUNCTION pam_otp.take_v1(kinds text[], keys text[], maxes integer[], windows bigint[], now bigint,
                                           lock_ms integer)
RETURNS TABLE(idx integer, retry_after bigint) )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
DECLARE
  n integer := coalesce(array_length(kinds, 1), 0);
  lock_id bigint;
  counted bigint;
  oldest bigint;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    -- At repeatable read the count would miss what the lock's last holder committed.
    RAISE EXCEPTION 'pam_otp needs transaction_isolation = read committed, not %',
      current_setting('transaction_isolation') USING ERRCODE = '0A000';
  END IF;
  IF array_length(keys, 1) IS DISTINCT FROM array_length(kinds, 1) OR array_length(maxes, 1) IS DISTINCT FROM array_length(kinds, 1)
     OR array_length(windows, 1) IS DISTINCT FROM array_length(kinds, 1) THEN
    RAISE EXCEPTION 'pam_otp.take_v1: arrays of different lengths' USING ERRCODE = '22023';
  END IF;
  PERFORM set_config('lock_timeout', greatest(lock_ms, 1)::text || 'ms', true);
  FOR lock_id IN SELECT DISTINCT ('x' || substr(md5(k || chr(1) || y), 1, 16))::bit(64)::bigint AS l
                   FROM unnest(kinds, keys) AS t(k, y) ORDER BY l LOOP
    PERFORM pg_advisory_xact_lock(lock_id);
  END LOOP;
  IF now % 16 = 0 THEN
    -- By the earlier of this host's clock and the server's: one host whose
    -- clock runs weeks ahead must not delete the fleet's counts.
    DELETE FROM pam_otp.events e
      WHERE e.at <= least(now, extract(epoch FROM statement_timestamp())::bigint) - 31 * 86400;
  END IF;
  FOR i IN 1 .. n LOOP
    SELECT count(*), min(e.at) INTO counted, oldest FROM pam_otp.events e
      WHERE e.kind = kinds[i] AND e.key = keys[i] AND e.at > now - windows[i];
    IF counted >= maxes[i] THEN
      oldest := least(greatest(coalesce(oldest, now), now - windows[i]), now);
      idx := i - 1;
      retry_after := greatest(1, oldest + windows[i] - now);
      RETURN NEXT;
      RETURN;
    END IF;
  END LOOP;
  INSERT INTO pam_otp.events(kind, key, at) SELECT k, y, now FROM unnest(kinds, keys) AS t(k, y);
END $$;

CREATE OR REPLACE FUNCTION pam_otp.count_v1(kind text, key text, since bigint)
RETURNS integer )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
BEGIN
  RETURN (SELECT count(*) FROM pam_otp.events e WHERE e.kind = count_v1.kind AND e.key = count_v1.key AND e.at > since);
END $$;

CREATE OR REPLACE FUNCTION pam_otp.forget_v1(u text) RETURNS void )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
BEGIN
  DELETE FROM pam_otp.remembered WHERE "user" = u;
  DELETE FROM pam_otp.events WHERE key = u AND kind IN ('send_user', 'recovery_tried');
  -- user_rhost keys: 64 hex digits of the address's hash, ':', the user name.
  DELETE FROM pam_otp.events WHERE kind = 'send_user_rhost' AND substr(key, 66) = u;
END $$;

CREATE OR REPLACE FUNCTION pam_otp.forget_rhost_v1(h text) RETURNS void )SQL" PAM_OTP_FN_ATTRS R"SQL( AS $$
BEGIN
  DELETE FROM pam_otp.events WHERE (kind = 'send_rhost' AND key = h)
                               OR (kind = 'send_user_rhost' AND substr(key, 1, 65) = h || ':');
END $$;
)SQL";

#undef PAM_OTP_FN_ATTRS

// Who calls what (docs/design.md, "The shared store"): a login reads a
// user's recovery codes and uses one, remembers and counts; giving codes,
// listing, counting for a report and forgetting are an administrator's.
const PgFunction kCatalogue[] = {
    {"pam_otp.hash_key_v1()", PgRights::login},
    {"pam_otp.set_recovery_codes_v1(text,text,text[],bigint)", PgRights::admin},
    {"pam_otp.recovery_codes_v1(text)", PgRights::login},
    {"pam_otp.use_recovery_code_v1(text,bigint,text,bigint,text)", PgRights::login},
    {"pam_otp.remember_v1(text,text,text,bigint,bigint)", PgRights::login},
    {"pam_otp.is_remembered_v1(text,text,bigint,bigint)", PgRights::login},
    {"pam_otp.remembered_v1(text,bigint)", PgRights::admin},
    {"pam_otp.take_v1(text[],text[],integer[],bigint[],bigint,integer)", PgRights::login},
    {"pam_otp.count_v1(text,text,bigint)", PgRights::admin},
    {"pam_otp.forget_v1(text)", PgRights::admin},
    {"pam_otp.forget_rhost_v1(text)", PgRights::admin},
};

}  // namespace

std::string pg_schema_sql() {
  std::string sql = kTables;
  sql += kFunctions;
  // Functions are executable by PUBLIC when made: only the grants below.
  for (const PgFunction& f : kCatalogue) sql += std::string("REVOKE ALL ON FUNCTION ") + f.signature + " FROM PUBLIC;\n";
  return sql;
}

std::string pg_grants_sql(const std::string& quoted_role, PgRights rights) {
  std::string sql = "GRANT USAGE ON SCHEMA pam_otp TO " + quoted_role + ";\n";
  for (const PgFunction& f : kCatalogue) {
    // A login role given more before (or by hand) is brought back to a login's.
    const bool grant = rights == PgRights::admin || f.rights == PgRights::login;
    sql += std::string(grant ? "GRANT EXECUTE ON FUNCTION " : "REVOKE EXECUTE ON FUNCTION ") + f.signature +
           (grant ? " TO " : " FROM ") + quoted_role + ";\n";
  }
  return sql;
}

std::span<const PgFunction> pg_functions() { return kCatalogue; }

}  // namespace otp::store
