// pam-otp show: the configuration a login would use, with every default,
// the preset and the secrets file applied, in TOML, secrets redacted.
#include <iostream>

#include "base/text.h"
#include "base/toml_util.h"
#include "cli/commands.h"
#include "config/loader.h"
#include "config/settings.h"
#include "http/url_policy.h"
#include "provider/spec.h"
#include "provider/template.h"

namespace otp::cli {
namespace {

constexpr char kUsage[] = R"(Usage: pam-otp show [--config PATH] [--arg KEY=VALUE]...

Prints the effective configuration, as a login would use it: every top-level
key with its value or default, the messages, and the provider's table with its
preset merged in. Shown in clear is only what is known not to be secret:
header values, auth parameters, keys that hold secrets and the user
information of URLs are printed as <redacted>, unless they are made of
template references only (which name a secret without holding it).
Exit status: 0, or 1 when the configuration has errors (they are listed).
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

}  // namespace

int run_show(const std::vector<std::string>& arguments, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args = arguments;
  CommonOptions options;
  if (!take_common_options(args, options, err)) return kExitUsage;
  if (!args.empty()) {
    err << "pam-otp show: unexpected argument '" << args.front() << "'\n" << kUsage;
    return kExitUsage;
  }
  if (options.help) {
    out << kUsage;
    return kExitOk;
  }
  const auto loaded = load_or_report(options.module_args, err);
  if (!loaded) return kExitFailed;
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
