// Where the shared state store is: `state_store`, a PostgreSQL connection
// URI, read by a strict parser of our own (libpq's would load libpq into
// every login that reads the configuration; docs/design.md, "The shared
// store"). Every setting that decides whom we talk to and how is named
// here, so that nothing is left to libpq's defaults, which come from the
// environment and the home directory of whoever runs the login.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/address.h"

namespace otp::store {

struct PgHost {
  std::string name;  // a host name, an IPv4 or IPv6 address (no brackets), or a socket directory
  int port = 5432;
  bool socket_dir() const { return !name.empty() && name.front() == '/'; }
};

struct PgTarget {
  std::vector<PgHost> hosts;  // tried in order
  std::string user;
  std::string dbname;
  // verify-full, or (to loopback on a port only root can bind, or a Unix
  // socket) anything libpq accepts.
  std::string sslmode = "verify-full";
  std::string sslrootcert, sslcert, sslkey, sslcrl;  // files; "" when not given
  std::string channel_binding;  // require, prefer or disable; "" for require with a password
  std::string requirepeer = "postgres";  // the server's system user, for a Unix socket
  bool client_certificate() const { return !sslcert.empty(); }
};

// Does the text name a PostgreSQL server (postgresql:// or postgres://)?
bool is_pg_uri(std::string_view text);

// The URI as a target, or nullopt and *problem says what is wrong (without
// repeating any password the URI may hold). `unprivileged_start` is the
// first port any user may bind (base/address.h).
std::optional<PgTarget> parse_pg_uri(std::string_view uri, std::string* problem,
                                     int unprivileged_start = unprivileged_port_start());

// The URI for showing and logging: any password replaced.
std::string redact_pg_uri(std::string_view uri);

// "postgresql://pam_otp@db.example:5432/pam_otp": whom a login connects as,
// and where, for messages.
std::string describe(const PgTarget& target);

}  // namespace otp::store
