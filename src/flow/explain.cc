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

// "directory uid=alice,dc=example,dc=com: sms +1******0143 (mobile value 1), ..."
std::string describe_known(const Known& known, const std::string& users_file) {
  if (!known.from_directory) return describe_entry(known.entry, users_file);
  std::string text = known.source + ":";
  for (std::size_t i = 0; i < known.listed.size(); ++i)
    text += std::string(i == 0 ? " " : ", ") + known.listed[i].channel + " " + masked(known.listed[i]) + " (" +
            known.listed[i].origin + ")";
  return text;
}

// The directory could not answer: what failmode makes of it, in short.
std::string describe_outage(const config::Config& cfg, const Known& known) {
  const Outage outage = outage_of(known);
  std::string then;
  switch (cfg.failmode) {
    case config::FailMode::Secure:
      then = "failmode = \"secure\": PAM_AUTHINFO_UNAVAIL";
      break;
    case config::FailMode::Safe:
      then = outage.never_open ? "failmode = \"safe\" does not apply to this (PAM_AUTHINFO_UNAVAIL)"
             : outage.remote   ? "failmode = \"safe\": PAM_IGNORE, no code"
                               : "failmode = \"safe\": PAM_IGNORE, no code, unless the caller could have caused it (su, sudo)";
      break;
    case config::FailMode::Recovery:
      then = "failmode = \"recovery\": a recovery code, else PAM_AUTHINFO_UNAVAIL";
      break;
  }
  return known.why + "; an outage, " + then;
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

Explanation explain(const config::Loaded& loaded, const LoginRequest& request, UserDirectory& directory,
                    const DirectoryLookup& lookup) {
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
  const Known known =
      find_destinations(loaded, canonical.user, lookup, [] { return std::chrono::steady_clock::now(); });
  for (const auto& why : known.left_out) e.lines.emplace_back("left out", "directory " + known.dn + ": " + why);
  const std::string unenrolled = cfg.unenrolled == config::Unenrolled::Allow ? "PAM_IGNORE, no code" : "PAM_AUTH_ERR";
  const bool deny = cfg.unenrolled == config::Unenrolled::Deny;
  switch (known.status) {
    case Known::Status::Outage:
      e.lines.emplace_back("enrolment", describe_outage(cfg, known));
      e.refused = true;
      return e;
    case Known::Status::Nobody:
      e.lines.emplace_back("enrolment", (known.asked_directory ? known.why : "not in " + cfg.users_file) +
                                            ": unenrolled (" + unenrolled + ")");
      e.refused = deny;
      return e;
    case Known::Status::Listed:
      break;
  }
  e.lines.emplace_back("enrolment", describe_known(known, cfg.users_file));
  const std::string channel = preferred_channel(cfg, known.entry, request.channel);
  if (channel != "ask" && !cfg.provider.supports_channel(channel)) {
    e.lines.emplace_back("channel", channel + ": the provider has no such channel (PAM_SERVICE_ERR)");
    e.refused = true;
    return e;
  }
  const auto options = known.from_directory ? destination_options(cfg, known.listed, channel)
                                            : destination_options(cfg, known.entry, channel);
  if (options.empty()) {
    e.lines.emplace_back("channel", channel + ": no destination for it, unenrolled (" + unenrolled + ")");
    e.refused = deny;
    return e;
  }
  e.lines.emplace_back("channel", describe_options(options));
  std::string urls;
  for (const auto& u : cfg.provider.base_urls) urls += (urls.empty() ? "" : ", ") + http::redact_url(u);
  e.lines.emplace_back("base_url", urls.empty() ? "(absolute step URLs)" : urls);
  e.lines.emplace_back("send", describe_steps(cfg, with_choice(known, options.front()), canonical, options.front()));
  e.code_would_be_sent = true;
  return e;
}

}  // namespace otp::flow
