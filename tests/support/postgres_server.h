// A real PostgreSQL 15 server for one test program: Debian's binaries,
// initdb into a temporary directory as the postgres user (the server
// refuses root), TLS with a CA made at test time, scram-sha-256 for every
// TCP login and no login without TLS, on a free loopback port.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "netns.h"
#include "store/pg_connection.h"

namespace otp::testing {

struct PostgresOptions {
  int max_connections = 40;
  std::vector<std::string> settings;  // more "-c name=value" for the server
  bool wrong_host_certificate = false;  // serve a certificate for wrong.example only
  // A server in a network namespace of its own, listening on `listen`
  // (IPv4 addresses there), its certificate for those addresses; the test
  // reaches it at the first. Default: this namespace's 127.0.0.1.
  const NetNs* netns = nullptr;
  std::vector<std::string> listen;
};

class PostgresServer {
 public:
  // Why a server cannot be started here (not root, so no postgres user to
  // run it as), or nullopt. A missing binary or user is not a reason: the
  // tests then fail, since scripts/test installs them.
  static std::optional<std::string> unavailable();

  explicit PostgresServer(PostgresOptions options = {});
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;
  ~PostgresServer();

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  const std::string& ca_file() const { return ca_; }

  // The superuser's options for database `db` (TLS, verify-full, password).
  store::PgConnectOptions admin(const std::string& db = "postgres") const;
  // A login role's: `role` with `password` on `db`.
  store::PgConnectOptions login(const std::string& role, const std::string& password, const std::string& db) const;
  // The URI a config file names for that login (without the password), at
  // `address` (default: where the test reaches the server).
  std::string uri(const std::string& role, const std::string& db, const std::string& address = "") const;

  // Runs statements as the superuser on `db`.
  std::vector<store::PgRow> sql(const std::string& statements, const std::string& db = "postgres",
                                const std::vector<std::string>& params = {}) const;
  // The roles pam_otp_login, for logins, and pam_otp_admin, for what
  // pam-otp does beyond them (both: password login_password()), made once.
  void ensure_login_role() const;
  static constexpr char kAdminRole[] = "pam_otp_admin";
  // A new database with pam_otp's schema (pam-otp state init's code):
  // pam_otp_login may do what a login does, pam_otp_admin everything.
  std::string new_store_database();
  static std::string login_password() { return "login-password-for-tests"; }
  // pam_otp_admin's options for `db` (the tests that call every function).
  store::PgConnectOptions store_admin(const std::string& db) const { return login(kAdminRole, login_password(), db); }

  void start();
  void stop();             // fast shutdown, waited for
  void stop_immediately(); // as a crash: no shutdown checkpoint
  void freeze();           // SIGSTOP to every server process: accepts (the kernel does), answers nothing
  void thaw();
  std::string log() const;

 private:
  void wait_until_ready();
  std::string listen_addresses() const;
  std::vector<pid_t> server_pids() const;

  PostgresOptions options_;
  std::string dir_, ca_, superuser_password_, address_ = "127.0.0.1";
  int port_ = 0;
  pid_t pid_ = -1;
  int databases_ = 0;
};

// pgbouncer (Debian's, 1.18) in transaction mode in front of a server, as
// README's "Fleet" section deploys it: TLS on both sides (the
// server's certificate and CA), scram-sha-256 with the login role's secret
// copied from the server, every database passed through, a pool of
// `pool_size` server connections per database.
class Pgbouncer {
 public:
  Pgbouncer(const PostgresServer& server, int pool_size);
  Pgbouncer(const Pgbouncer&) = delete;
  Pgbouncer& operator=(const Pgbouncer&) = delete;
  ~Pgbouncer();

  // `role`'s (pam_otp_login or pam_otp_admin) options for database `db`,
  // through pgbouncer.
  store::PgConnectOptions login(const std::string& role, const std::string& db) const;

 private:
  const PostgresServer& server_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace otp::testing
