#include "flow/explain.h"

#include "base/text.h"
#include "flow/destinations.h"
#include "flow/scope.h"
#include "http/url_policy.h"
#include "provider/request.h"

namespace otp::flow {
namespace {

std::string describe_entry(const config::UserEntry& entry, const std::string& users_file) {
  std::string text = entry.name == "*" ? users_file + ": the '*' line" : users_file + ":" + std::to_string(entry.line);
  for (const auto& [key, value] : entry.keys) {
    const bool address = key == "phone" || key == "email";
    text += " " + key + "=" + (address ? mask_destination(value) : log_value(value));
  }
  return text;
}

std::string describe_options(const std::vector<Destination>& options) {
  if (options.size() == 1)
    return options[0].channel + (options[0].address.empty() ? " (the provider knows where)" : " to " + masked(options[0]));
  std::string text = "a menu of " + std::to_string(options.size()) + ":";
  for (std::size_t i = 0; i < options.size(); ++i)
    text += " " + std::to_string(i + 1) + ") " + options[i].channel + " " + masked(options[i]);
  return text;
}

// The send steps whose conditions hold for this user and destination.
std::string describe_steps(const config::Config& cfg, const config::UserEntry& entry, const LoginRequest& request,
                           const Destination& dest) {
  provider::Variables vars(cfg.provider);
  set_login_variables(vars, cfg, entry, request, dest);
  std::string text;
  for (const auto& step : cfg.provider.send) {
    bool runs = false;
    std::string unknown;
    try {
      runs = provider::conditions_hold(step.when, vars);
    } catch (const std::exception& e) {  // a condition that cannot be evaluated yet
      unknown = std::string(" (its conditions cannot be checked now: ") + e.what() + ")";
    }
    const bool later = unknown.empty() && !step.when.empty() && !runs;  // may depend on a value saved by an earlier step
    text += (text.empty() ? "" : "; ") + step.method + " " + step.url + (later ? " (if its conditions hold then)" : unknown);
  }
  return text;
}

}  // namespace

Explanation explain(const config::Loaded& loaded, const LoginRequest& request, UserDirectory& directory) {
  const auto& cfg = loaded.config;
  Explanation e;
  e.lines.emplace_back("provider", cfg.provider_name + (cfg.provider.preset.empty() ? "" : " (preset " + cfg.provider.preset + ")"));
  const auto user = directory.find_user(request.user);
  if (!user) {
    e.lines.emplace_back("user", request.user + ": no passwd entry (PAM_USER_UNKNOWN)");
    return e;
  }
  e.lines.emplace_back("user", user->name + " (uid " + std::to_string(user->uid) + ")" +
                                   (user->name != request.user ? ", the passwd name of " + request.user : ""));
  const auto scope = decide_scope(cfg, *user, directory, request.service, request.rhost);
  e.lines.emplace_back("scope", scope.in_scope ? "in scope (service " + request.service + ", rhost " +
                                                     (request.rhost.empty() ? "none" : request.rhost) + ")"
                                               : "out of scope: " + scope.rule + " (PAM_IGNORE, no code)");
  if (!scope.in_scope) return e;
  LoginRequest canonical = request;
  canonical.user = user->name;
  if (caller_owns_destination(cfg, request)) {
    const auto caller = directory.find_user(request.ruser);
    if (!caller) {
      e.lines.emplace_back("caller", request.ruser + " (PAM_RUSER): no passwd entry (PAM_AUTH_ERR)");
      return e;
    }
    e.lines.emplace_back("caller", "destination_user = \"caller\": the code goes to " + caller->name +
                                       "'s destination, not " + user->name + "'s");
    canonical.user = caller->name;
  }
  const auto entry = loaded.users.find(canonical.user);
  const std::string unenrolled = cfg.unenrolled == config::Unenrolled::Allow ? "PAM_IGNORE, no code" : "PAM_AUTH_ERR";
  const bool deny = cfg.unenrolled == config::Unenrolled::Deny;
  if (!entry) {
    e.lines.emplace_back("enrolment", "not in " + cfg.users_file + ": unenrolled (" + unenrolled + ")");
    e.refused = deny;
    return e;
  }
  e.lines.emplace_back("enrolment", describe_entry(*entry, cfg.users_file));
  const std::string channel = preferred_channel(cfg, *entry, request.channel);
  if (channel != "ask" && !cfg.provider.supports_channel(channel)) {
    e.lines.emplace_back("channel", channel + ": the provider has no such channel (PAM_SERVICE_ERR)");
    e.refused = true;
    return e;
  }
  const auto options = destination_options(cfg, *entry, channel);
  if (options.empty()) {
    e.lines.emplace_back("channel", channel + ": no destination for it, unenrolled (" + unenrolled + ")");
    e.refused = deny;
    return e;
  }
  e.lines.emplace_back("channel", describe_options(options));
  std::string urls;
  for (const auto& u : cfg.provider.base_urls) urls += (urls.empty() ? "" : ", ") + http::redact_url(u);
  e.lines.emplace_back("base_url", urls.empty() ? "(absolute step URLs)" : urls);
  e.lines.emplace_back("send", describe_steps(cfg, *entry, canonical, options.front()));
  e.code_would_be_sent = true;
  return e;
}

}  // namespace otp::flow
