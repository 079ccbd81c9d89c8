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

// Why the directory could not answer, as failmode needs to know it
// (docs/design.md, "Destinations from the directory"); the later a kind
// comes here, the less a login may do on it. Each URI tried fails its own
// way; the lookup's failure is the worst of them.
enum class Failure {
  Answered,   // a verified server cannot serve now: busy, unavailable, a time or size limit of its own
  NoAnswer,   // no server reached (refused, unreachable, no name), a timeout, a connection lost: a caller who
              // can stop or limit the process can cause it
  Local,      // this machine: options that cannot be set, a plugin that cannot be loaded, no thread
  Refused,    // a verified server refused pam_otp's own bind or search (a wrong or locked bind account, a base
              // that is not there, no right to read it, a referral not followed): configuration
  Untrusted,  // TLS did not come up verified (certificate, host name, StartTLS refused): an on-path attacker's work
  Ambiguous,  // two entries for one name: the directory's data is wrong, whatever the network does
};

// The directory could not say whether the user has a destination: an
// outage, never "no destination".
class Unavailable : public std::runtime_error {
 public:
  Unavailable(const std::string& what, Failure failure) : std::runtime_error(what), failure_(failure) {}
  Failure failure() const { return failure_; }

 private:
  Failure failure_;
};

struct LdapOptions {
  std::vector<std::string> uris;  // tried in order: "ldaps://ldap1.example", "ldap://ldap2.example:389"
  std::string ca_file;            // the CA the servers' certificates must chain to
  std::string bind_dn;            // a simple bind with bind_password; empty: SASL EXTERNAL with
  Secret bind_password;           //   client_cert and client_key, or anonymous when those are empty too
  std::string client_cert, client_key;
  std::string base;
  std::vector<std::string> attributes;  // the only ones asked for
  bool follow_referrals = false;  // a base held by another server: asked there, by the same rules
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
