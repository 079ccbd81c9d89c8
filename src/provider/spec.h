// A provider described as data: HTTP steps in two phases (send, verify),
// each with its request template and outcome rules. Presets are written in
// the same language, so every preset exercises this generic path.
#pragma once

#include <json/value.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/regex.h"
#include "provider/expiry.h"
#include "provider/jwt.h"
#include "provider/rules.h"
#include "provider/template.h"

namespace otp::provider {

// How requests authenticate. Parameters are templates; which ones a scheme
// takes is listed in spec_loader.cc.
//   basic: user, password        bearer: token        header: name, value
//   blockid: license_key, community_public_key, private_key (optional), app_id
struct Auth {
  enum class Scheme { Inherit, None, Basic, Bearer, Header, BlockId };
  Scheme scheme = Scheme::Inherit;
  std::map<std::string, std::string, std::less<>> params;

  const std::string& param(std::string_view name) const;
};

// A condition on a variable: it equals one of `any_of`, or, when `pattern`
// is set, its text matches that POSIX extended regular expression.
struct Condition {
  std::string name;
  std::vector<Json::Value> any_of;
  std::optional<Regex> pattern;
};

// One alternative of a `choose` key: the value, when every condition holds.
struct Choice {
  std::vector<Condition> when;
  Json::Value value;
};

struct Step {
  std::string where;  // "file:line" of the step, for logs
  std::string method = "POST";
  std::string url;    // template; relative to base_url unless it starts with a scheme
  std::vector<std::pair<std::string, std::string>> headers;  // name, value template
  Auth auth;
  enum class BodyKind { None, Json, Form };
  BodyKind body_kind = BodyKind::None;
  Json::Value body;   // JSON template (Json) or object of value templates (Form)
  // Run the step only when every condition holds.
  std::vector<Condition> when;
  // Saved variable -> JSON Pointers, the first present one wins.
  std::vector<std::pair<std::string, std::vector<std::string>>> save;
  std::vector<Rule> rules;
  // An accepted answer must also carry a session token signed by the
  // provider's published keys (validate_jwt = { ... }), when jwt_when holds.
  JwtCheck jwt;
  std::vector<Condition> jwt_when;
  // A send step's answer says when the code expires (valid_until = { ... }):
  // a code typed after that is not sent to the provider.
  ExpirySource expiry;
};

enum class Phase { Send, Verify };

struct ProviderSpec {
  std::string name;    // the NAME of [provider.NAME]
  std::string preset;  // empty for a generic description
  std::vector<std::string> base_urls;  // tried in order on connection/TLS failure or 5xx
  Auth auth;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<Rule> rules_first;  // tried before each step's own rules
  std::vector<Rule> rules;        // tried after each step's own rules
  std::vector<Step> send;
  std::vector<Step> verify;
  // Our channel name -> the provider's. Empty: every channel, same names.
  std::map<std::string, std::string> channels;
  bool destination_required = true;
  // The country calling codes the provider serves ("1", "91"); empty: any.
  // pam-otp check warns about users whose phone is elsewhere.
  std::vector<std::string> phone_countries;
  // Keys whose value should be a template, with why: pam-otp check warns
  // when one is a fixed, non-empty text (privacyIDEA's trigger_pass).
  std::map<std::string, std::string, std::less<>> warn_if_literal;
  // The other keys of the table: template variables.
  std::map<std::string, Json::Value, std::less<>> vars;
  std::set<std::string, std::less<>> secret_vars;
  // Variables whose value depends on others (choose = { name = [ ... ] }).
  std::map<std::string, std::vector<Choice>, std::less<>> choices;
  // Some template uses ${password}: pam_otp asks for it when no earlier
  // module left PAM_AUTHTOK.
  bool uses_password = false;
  // The table as loaded (preset merged in), for `pam-otp show`.
  Json::Value source;

  ProviderSpec() = default;
  ProviderSpec(const ProviderSpec&) = default;
  ProviderSpec(ProviderSpec&&) = default;
  ProviderSpec& operator=(const ProviderSpec&) = default;
  ProviderSpec& operator=(ProviderSpec&&) = default;
  ~ProviderSpec();

  const std::vector<Step>& steps(Phase phase) const { return phase == Phase::Send ? send : verify; }
  // Without a `channels` list every single channel; a combined one
  // (sms+email) only when listed.
  bool supports_channel(const std::string& channel) const {
    return channels.empty() ? channel.find('+') == std::string::npos : channels.count(channel) > 0;
  }
};

// Names the module defines itself; users-file keys and saved values may not
// reuse them, and provider keys only the overridable ones.
bool is_builtin_variable(std::string_view name);
// Built-ins a provider key may redefine (privacyIDEA's user, Baanx's email).
bool is_overridable_builtin(std::string_view name);
// Is a provider key a credential (never shown, never in a URL)?
bool looks_secret(std::string_view key);

// Does every condition hold for these variables?
bool conditions_hold(const std::vector<Condition>& conditions, const VariableSource& vars);

}  // namespace otp::provider
