// One libpq connection with every wait bounded by a deadline of ours:
// name resolution, connecting, TLS, authentication, sending, and waiting
// for the answer (libpq's connect_timeout is whole seconds, at least 2, per
// host, and its blocking calls have no deadline at all). Only the shared
// store's plugin and pam-otp link this (libpq).
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/secret.h"
#include "store/pg_target.h"
#include "store/store.h"

typedef struct pg_conn PGconn;

namespace otp::store {

using PgClock = std::chrono::steady_clock;

// A statement that failed: the server's SQLSTATE when it answered one.
class PgError : public Error {
 public:
  PgError(const std::string& what, std::string sqlstate) : Error(what), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// A row of text values; nullopt for SQL NULL.
using PgRow = std::vector<std::optional<std::string>>;

struct PgConnectOptions {
  PgTarget target;
  Secret password;  // from state_password_file; empty with a client certificate
};

// libpq reads these from the environment of whoever runs it (the login's
// caller, for su and sudo) and some cannot be overridden by a connection
// parameter (PGSERVICE, PGOPTIONS, PGTZ...): the first that is set, or "".
std::string pg_environment_problem();

class PgConnection {
 public:
  // Connects to the first host that answers, before `deadline`. Throws
  // Error (unreachable, TLS, authentication), naming the host.
  PgConnection(const PgConnectOptions& options, PgClock::time_point deadline);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  // Runs one statement with text parameters (autocommit: its own
  // transaction; without parameters, any number of statements) and returns
  // its rows. Throws PgError for the server's
  // errors, and Error when the deadline passes or the connection breaks (it
  // is then closed): MayHaveRun once the statement has gone out.
  std::vector<PgRow> run(const std::string& sql, const std::vector<std::string>& params,
                         PgClock::time_point deadline);

  bool usable() const { return conn_ != nullptr; }
  // What the connection is, for pam-otp check: "TLSv1.3, password" ...
  std::string describe() const;
  // name as a quoted SQL identifier ("o""brien"), by libpq's rules.
  std::string quote_identifier(const std::string& name) const;
  PGconn* raw() const { return conn_; }

 private:
  void close() noexcept;
  void wait(bool for_write, PgClock::time_point deadline, const char* doing);

  PGconn* conn_ = nullptr;
  std::string where_;  // "db.example (192.0.2.7) port 5432", for messages
};

}  // namespace otp::store
