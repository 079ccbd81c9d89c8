// One user's entry from an LDAP directory, through libldap (OpenLDAP's
// client), within a deadline: a connection of its own (TLS verified with
// the configured CA: ldaps://, or ldap:// with StartTLS required), a bind,
// one search, closed after. Every option is set on the connection itself,
// so that neither ldap.conf, ~/.ldaprc nor LDAP* variables in a caller's
// environment weaken it. docs/design.md, "Destinations from the directory".
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/secret.h"

namespace otp::directory {

// The directory could not say whether the user has a destination: not
// reachable, too slow, TLS refused, the bind refused, an error answer, or
// two entries for one name. An outage, never "no destination".
class Unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LdapOptions {
  std::vector<std::string> uris;  // tried in order: "ldaps://ldap1.example", "ldap://ldap2.example:389"
  std::string ca_file;            // the CA the servers' certificates must chain to
  std::string bind_dn;            // a simple bind with bind_password; empty: SASL EXTERNAL with
  Secret bind_password;           //   client_cert and client_key, or anonymous when those are empty too
  std::string client_cert, client_key;
  std::string base;
  std::vector<std::string> attributes;  // the only ones asked for
  bool follow_referrals = false;
};

struct Entry {
  std::string dn;
  std::map<std::string, std::vector<std::string>> values;  // attribute (as asked for) -> its values
};

using Clock = std::chrono::steady_clock;

// The entry `filter` (already escaped: FilterTemplate) finds under base,
// or nullopt when there is none. Throws Unavailable.
std::optional<Entry> find_entry(const LdapOptions& options, const std::string& filter, Clock::time_point deadline);

}  // namespace otp::directory
