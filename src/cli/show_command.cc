// pam-otp show: the configuration a login would use, with every default,
// the preset and the secrets file applied, in TOML, secrets redacted.
#include <iostream>

#include "base/text.h"
#include "base/toml_util.h"
#include "cli/commands.h"
#include "config/loader.h"
#include "config/settings.h"
#include "directory/lookup.h"
#include "flow/sources.h"
#include "flow/user_directory.h"
#include "http/url_policy.h"
#include "provider/spec.h"
#include "provider/template.h"

namespace otp::cli {
namespace {

constexpr char kUsage[] = R"(Usage: pam-otp show [USER] [--config PATH] [--arg KEY=VALUE]...

Prints the effective configuration, as a login would use it: every top-level
key with its value or default, the messages, and the provider's table with its
preset merged in. Shown in clear is only what is known not to be secret:
header values, auth parameters, keys that hold secrets and the user
information of URLs are printed as <redacted>, unless they are made of
template references only (which name a secret without holding it).

With USER, prints instead where USER's codes would go and where that came
from, asking the sources as a login does (destinations): the users file's
line, or the directory's entry (its DN) and, for each destination, the
attribute and value it came from, as the provider would get it (E.164).
Values the directory has that are no destination are listed as left out.
Nothing is sent.

Exit status: 0, or 1 when the configuration has errors (they are listed) or
USER has no destination (unenrolled, or the directory could not answer).
)";

constexpr char kRedacted[] = "<redacted>";

toml::array to_toml_array(const Json::Value& v);

toml::table to_toml_table(const Json::Value& v) {
  toml::table t;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const Json::Value& x = *it;
    if (x.isObject()) t.insert(it.name(), to_toml_table(x));
    else if (x.isArray()) t.insert(it.name(), to_toml_array(x));
    else if (x.isBool()) t.insert(it.name(), x.asBool());
    else if (x.isIntegral()) t.insert(it.name(), static_cast<std::int64_t>(x.asInt64()));
    else if (x.isDouble()) t.insert(it.name(), x.asDouble());
    else if (x.isString()) t.insert(it.name(), x.asString());
  }
  return t;
}

toml::array to_toml_array(const Json::Value& v) {
  toml::array a;
  for (const auto& x : v) {
    if (x.isObject()) a.push_back(to_toml_table(x));
    else if (x.isArray()) a.push_back(to_toml_array(x));
    else if (x.isBool()) a.push_back(x.asBool());
    else if (x.isIntegral()) a.push_back(static_cast<std::int64_t>(x.asInt64()));
    else if (x.isDouble()) a.push_back(x.asDouble());
    else if (x.isString()) a.push_back(x.asString());
  }
  return a;
}

// Is text nothing but template references ("${secret}", "${a}:${b}")? It
// then names values without holding one, and is shown. ("$${" is literal.)
bool only_references(const std::string& text) {
  if (text.empty() || provider::check_template(text)) return false;
  std::string rest;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) return false;
    if (text.compare(i, 2, "${") == 0) {
      int depth = 0;
      ++i;  // the '$'; the loop reads the braces
      do {
        if (text[i] == '{') ++depth;
        if (text[i] == '}') --depth;
        ++i;
      } while (i < text.size() && depth > 0);
      continue;
    }
    rest += text[i++];
  }
  return rest.find_first_not_of(" :/-") == std::string::npos;
}

bool is_secret_key(const std::string& key, const provider::ProviderSpec& spec) {
  if (key == "secret_keys") return false;  // names, not values
  if (provider::looks_secret(key)) return true;
  for (const auto& name : spec.secret_vars)
    if (equals_ci(name, key)) return true;
  return false;
}

void redact_value(Json::Value& v) {
  if (v.isString() && !only_references(v.asString()) && !v.asString().empty()) v = kRedacted;
  else if (v.isArray() || v.isObject())
    for (auto& item : v) redact_value(item);
}

// Shown in clear is only what is known not to be secret: every header value,
// every auth parameter (but the scheme and a header's name) and every key a
// preset or the administrator marks secret (any case) is redacted unless it
// is made of template references only; URLs lose their user information.
void redact(Json::Value& v, const provider::ProviderSpec& spec) {
  if (v.isArray()) {
    for (auto& item : v) redact(item, spec);
    return;
  }
  if (!v.isObject()) return;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string key = it.name();
    if (equals_ci(key, "auth") && it->isObject()) {
      for (auto p = it->begin(); p != it->end(); ++p)
        if (p.name() != "scheme" && p.name() != "name") redact_value(*p);
    } else if (equals_ci(key, "headers") || is_secret_key(key, spec)) {
      redact_value(*it);
    } else if ((key == "base_url" || key == "url") && (it->isString() || it->isArray())) {
      if (it->isString()) *it = http::redact_url(it->asString());
      else
        for (auto& url : *it) url = http::redact_url(url.asString());
    } else {
      redact(*it, spec);
    }
  }
}

// Keys left unset (no default) are listed as comments, so that every key shows.
void print_unset(const toml::table& settings, std::ostream& out) {
  for (const auto key : config::top_level_keys())
    if (key != "provider" && !settings.contains(key)) out << "# " << key << " is not set\n";
}

// Where USER's codes go, and where that came from.
int show_user(const config::Loaded& loaded, const std::string& name, std::ostream& out) {
  const auto& cfg = loaded.config;
  flow::SystemUserDirectory passwd;
  const auto account = passwd.find_user(name);
  const std::string user = account ? account->name : name;
  std::string order;
  for (const auto& source : cfg.destinations) order += (order.empty() ? "" : ", ") + source;
  out << "# where " << user << "'s codes go, as a login finds them (destinations: " << order << ")\n";
  if (!account) out << "# (" << name << " has no passwd entry: a login would end with PAM_USER_UNKNOWN)\n";
  const flow::Known known =
      flow::find_destinations(loaded, user, directory::lookup, [] { return std::chrono::steady_clock::now(); });
  const std::string asked =
      known.asked_directory ? " (the directory answered in " + std::to_string(known.directory_time.count() / 1000) + " ms)" : "";
  auto line = [&out](const std::string& label, const std::string& text) {
    out << label << ":" << std::string(label.size() < 9 ? 9 - label.size() : 1, ' ') << text << "\n";
  };
  switch (known.status) {
    case flow::Known::Status::Outage:
      line("source", "none: " + known.why + " (an outage: failmode decides, the user is not unenrolled)");
      return kExitFailed;
    case flow::Known::Status::Nobody:
      line("source", "none: " + known.why + asked + " (unenrolled)");
      for (const auto& why : known.left_out) line("left out", why);
      return kExitFailed;
    case flow::Known::Status::Listed:
      break;
  }
  if (!known.from_directory) {
    const bool wildcard = known.entry.name == "*";
    line("source", "users_file " + cfg.users_file + " line " + std::to_string(known.entry.line) +
                       (wildcard ? " (the \"*\" line)" : "") + asked);
    for (const auto& [key, value] : known.entry.keys) line(key, value);
    return kExitOk;
  }
  line("source", known.source + asked);
  for (const auto& d : known.listed) line(d.channel, d.address + " (" + d.origin + ")");
  for (const auto& why : known.left_out) line("left out", why);
  return kExitOk;
}

}  // namespace

int run_show(const std::vector<std::string>& arguments, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args = arguments;
  CommonOptions options;
  if (!take_common_options(args, options, err)) return kExitUsage;
  if (args.size() > 1 || (!args.empty() && (args.front().empty() || args.front()[0] == '-'))) {
    err << "pam-otp show: unexpected argument '" << args.back() << "'\n" << kUsage;
    return kExitUsage;
  }
  if (options.help) {
    out << kUsage;
    return kExitOk;
  }
  const auto loaded = load_or_report(options.module_args, err);
  if (!loaded) return kExitFailed;
  if (!args.empty()) return show_user(*loaded, args.front(), out);
  const auto& cfg = loaded->config;
  const toml::table settings = config::shown_settings(cfg);
  Json::Value provider = cfg.provider.source;
  redact(provider, cfg.provider);
  toml::table providers;
  providers.insert(cfg.provider_name, to_toml_table(provider));
  toml::table top;
  top.insert("provider", std::move(providers));
  out << "# pam_otp: the effective configuration of " << cfg.path << "\n"
      << "# provider = \"" << cfg.provider_name << "\"\n"
      << settings << "\n";
  print_unset(settings, out);
  out << "\n" << top << "\n";
  return kExitOk;
}

}  // namespace otp::cli
