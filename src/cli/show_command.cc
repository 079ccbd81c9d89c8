// pam-otp show: the configuration a login would use, with every default,
// the preset and the secrets file applied, in TOML, secrets redacted.
#include <iostream>

#include "base/toml_util.h"
#include "cli/commands.h"
#include "config/loader.h"
#include "config/settings.h"
#include "provider/spec.h"

namespace otp::cli {
namespace {

constexpr char kUsage[] = R"(Usage: pam-otp show [--config PATH] [--arg KEY=VALUE]...

Prints the effective configuration, as a login would use it: every top-level
key with its value or default, the messages, and the provider's table with its
preset merged in. Values of keys that hold secrets are printed as <redacted>.
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

// A literal value under a secret-looking key is a credential; a template
// ("${secret}") only names one, so it is shown.
void redact(Json::Value& v, const provider::ProviderSpec& spec) {
  if (!v.isObject() && !v.isArray()) return;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const bool secret_key = v.isObject() && (provider::looks_secret(it.name()) || spec.secret_vars.count(it.name()));
    if (secret_key && it->isString() && it->asString().find("${") == std::string::npos && !it->asString().empty())
      *it = kRedacted;
    else
      redact(*it, spec);
  }
}

toml::table settings_table(const config::Config& c) {
  toml::table t;
  auto list = [](const std::vector<std::string>& items) {
    toml::array a;
    for (const auto& i : items) a.push_back(i);
    return a;
  };
  t.insert("debug", c.debug);
  t.insert("failmode", c.failmode == config::FailMode::Safe ? "safe" : "secure");
  t.insert("attempts", c.attempts);
  t.insert("resends", c.resends);
  t.insert("resend_cooldown", c.resend_cooldown);
  t.insert("code_pattern", c.code_pattern);
  t.insert("echo_code", c.echo_code);
  t.insert("channel", c.channel);
  t.insert("unenrolled", c.unenrolled == config::Unenrolled::Allow ? "allow" : "deny");
  t.insert("users_file", c.users_file);
  t.insert("require_groups", list(c.require_groups));
  t.insert("exempt_groups", list(c.exempt_groups));
  t.insert("exempt_networks", list(c.exempt_networks));
  t.insert("exempt_services", list(c.exempt_services));
  t.insert("timeout", c.timeout);
  t.insert("connect_timeout", c.connect_timeout);
  t.insert("deadline", c.deadline);
  const std::pair<const char*, const std::string*> optional[] = {
      {"ca_file", &c.tls.ca_file}, {"pinned_public_key", &c.tls.pinned_public_key},
      {"client_cert", &c.tls.client_cert}, {"client_key", &c.tls.client_key}, {"proxy", &c.tls.proxy},
      {"secrets_file", &c.secrets_file}, {"secrets_group", &c.secrets_group}};
  for (const auto& [key, value] : optional)
    if (!value->empty()) t.insert(key, *value);
  toml::table messages;
  for (const auto& [key, text] : c.messages) messages.insert(key, text);
  t.insert("messages", std::move(messages));
  return t;
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
  const toml::table settings = settings_table(cfg);
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
