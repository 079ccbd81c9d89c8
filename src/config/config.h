// The effective configuration of one module call: defaults, then the config
// file, then the secrets file, then module arguments.
#pragma once

#include <map>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "base/regex.h"
#include "base/secret.h"
#include "http/tls_options.h"
#include "provider/client.h"
#include "provider/spec.h"
#include "store/pg_target.h"

namespace otp::config {

enum class FailMode { Secure, Safe, Recovery };
enum class Unenrolled { Deny, Allow };
enum class RecoveryUse { Off, Outage, Always };
enum class DestinationUser { Target, Caller };

// The config file's word for each value (the settings table parses with these).
std::string_view name_of(FailMode m);
std::string_view name_of(Unenrolled u);
std::string_view name_of(RecoveryUse r);
std::string_view name_of(DestinationUser d);

// At most `max` codes sent in `window` seconds; max 0: no limit.
struct RateLimit {
  int max = 0;
  int window = 0;
  bool on() const { return max > 0; }
};
// "5/15m" for max 5 in 900 s; nullopt with `why` when it is not one.
std::optional<RateLimit> parse_rate_limit(const std::string& text, std::string& why);
std::string rate_limit_text(const RateLimit& limit);

// What one send_limit counts codes per: the keys of the send_limit table.
enum class SendScope {
  User,       // the destination's owner
  Rhost,      // PAM_RHOST
  UserRhost,  // one owner from one PAM_RHOST: their share of its budget
};
struct SendLimitRow {
  SendScope scope;
  std::string_view key;         // in send_limit = { ... }
  RateLimit default_limit;
};
// Every send limit, in the order they are checked.
inline constexpr SendLimitRow kSendLimits[] = {
    {SendScope::User, "user", {5, 15 * 60}},
    {SendScope::Rhost, "rhost", {20, 60 * 60}},
    {SendScope::UserRhost, "user_rhost", {5, 60 * 60}},
};
inline constexpr std::size_t kSendScopes = std::size(kSendLimits);
struct SendLimits {
  RateLimit limit[kSendScopes] = {kSendLimits[0].default_limit, kSendLimits[1].default_limit,
                                  kSendLimits[2].default_limit};
  RateLimit& operator[](SendScope s) { return limit[static_cast<std::size_t>(s)]; }
  const RateLimit& operator[](SendScope s) const { return limit[static_cast<std::size_t>(s)]; }
};

// Where destinations come from besides the users file: an LDAP directory
// (docs/design.md, "Destinations from the directory").
struct DirectoryConfig {
  std::vector<std::string> uris;  // ldaps://host[:port] or ldap://host[:port] (StartTLS), tried in order
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  std::string bind_dn;
  std::string bind_password_file;
  Secret bind_password;  // its first line, loaded
  std::string client_cert, client_key;  // SASL EXTERNAL instead of a bind DN
  std::string base;
  std::string filter = "(&(objectClass=person)(uid=${user}))";  // checked: directory::FilterTemplate
  std::vector<std::pair<std::string, std::string>> attributes;  // channel -> attribute, in provider::channels()' order
  std::string default_region;  // ISO 3166 ("US"), for numbers without their country code
  int timeout_ms = 3000;       // connect, bind and search together
  bool follow_referrals = false;
};

struct Config {
  std::string path;  // the config file
  bool debug = false;
  FailMode failmode = FailMode::Secure;
  int attempts = 3;
  int resends = 1;
  int resend_cooldown = 30;  // seconds
  Regex code_pattern = Regex::literal("^[0-9]{4,10}$");
  bool echo_code = false;
  std::string channel = "sms";  // sms, email, whatsapp, voice, ask
  Unenrolled unenrolled = Unenrolled::Deny;
  std::string users_file = "/etc/security/pam_otp.users";
  std::vector<std::string> require_groups;
  std::vector<std::string> exempt_groups;
  std::vector<std::string> exempt_networks;
  std::vector<std::string> exempt_services;
  // SSH methods that must have succeeded before this stack (SSH_AUTH_INFO_0).
  std::vector<std::string> require_ssh_methods;
  int timeout = static_cast<int>(http::kDefaultTimeout.count());  // seconds, one HTTP exchange
  int connect_timeout = static_cast<int>(http::kDefaultConnectTimeout.count());
  int deadline = static_cast<int>(provider::kDefaultDeadline.count());  // seconds of provider time per login
  http::TlsOptions tls;  // the TLS keys, and the files they name, loaded
  std::string secrets_file;
  std::string secrets_group;
  std::map<std::string, std::string, std::less<>> messages;  // every key present (defaults filled in)
  // Local state (docs/design.md, "Local state").
  std::string state_file = "/var/lib/pam_otp/state.db";
  // The state service's socket (store/state_service.h); "" for none.
  std::string state_service = "/run/pam_otp/state.sock";
  // The shared store (docs/design.md, "The shared store"): a postgresql://
  // URI; "" keeps everything in state_file.
  std::string state_store;
  std::optional<store::PgTarget> store_target;  // state_store, parsed
  std::string state_password_file;
  Secret state_password;  // its first line, loaded
  int store_timeout_ms = 1000;  // all of a login's calls to the shared store together
  RecoveryUse recovery = RecoveryUse::Outage;
  int remember = 0;  // seconds; 0: off
  std::vector<std::string> remember_services = {"sshd"};
  SendLimits send_limit;
  std::optional<DirectoryConfig> directory;
  std::vector<std::string> destinations = {"users_file"};  // the sources, in order ("users_file", "directory")
  DestinationUser destination_user = DestinationUser::Target;
  std::vector<std::string> caller_services = {"su", "su-l"};
  std::string provider_name;
  provider::ProviderSpec provider;
  // Where each top-level key that was set came from: file (or module
  // argument) and line, for problems found after loading (pam-otp check).
  std::map<std::string, std::pair<std::string, int>, std::less<>> origin;
};

// The limits of the provider's exchanges the timeout, connect_timeout and
// deadline keys set, for the client and for `pam-otp check`.
provider::Limits limits(const Config& c);

}  // namespace otp::config
