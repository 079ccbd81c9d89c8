#include "flow/login.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/text.h"
#include "flow/destinations.h"
#include "flow/record.h"
#include "flow/scope.h"
#include "flow/session.h"
#include "flow/ssh_auth_info.h"
#include "provider/channels.h"
#include "provider/client.h"
#include "provider/variables.h"

namespace otp::flow {
namespace {


}  // namespace

void set_login_variables(provider::Variables& vars, const config::Config& cfg, const config::UserEntry& entry,
                         const LoginRequest& request, const Destination& dest) {
  // The users file's channel is a preference; the channel in use is the built-in.
  for (const auto& [key, value] : entry.keys)
    if (key != "channel") vars.set_user_key(key, Json::Value(value));
  vars.set_builtin("user", Json::Value(request.user));
  vars.set_builtin("service", Json::Value(request.service));
  vars.set_builtin("rhost", Json::Value(request.rhost));
  vars.set_builtin("provider", Json::Value(cfg.provider_name));
  vars.set_builtin("channel", Json::Value(dest.channel));
  const auto mapped = cfg.provider.channels.find(dest.channel);
  vars.set_builtin("provider_channel", Json::Value(mapped != cfg.provider.channels.end() ? mapped->second : dest.channel));
  if (!dest.address.empty()) vars.set_builtin("destination", Json::Value(dest.address));
  if (request.authtok) vars.set_builtin_secret("password", *request.authtok);
}

namespace {

std::string joined_channels(const Json::Value& names);

// The user's password: PAM_AUTHTOK when an earlier module left one, else,
// for a provider that logs in with it (Baanx), asked for. It is also what
// answer_ends_login() looks for. A result when the login ends here.
std::optional<AuthResult> ensure_password(const config::Config& cfg, const LoginRequest& request,
                                          provider::Variables& vars, Conversation& conversation, LoginRecord& record,
                                          std::optional<Secret>& password) {
  // An empty PAM_AUTHTOK is no password either (and some modules wipe theirs).
  if (request.authtok && !request.authtok->empty()) {
    password = *request.authtok;
    return std::nullopt;
  }
  if (!cfg.provider.uses_password) return std::nullopt;
  auto answer = conversation.ask(cfg.messages.at("password_prompt"), false);
  if (!answer) {
    record.set(Result::ConversationFailed, "no answer to the password prompt");
    return AuthResult::ConvErr;
  }
  if (answer_ends_login(*answer, nullptr, record)) return AuthResult::AuthErr;
  vars.set_builtin_secret("password", *answer);
  password = std::move(answer);
  return std::nullopt;
}

void log_result(Logger& log, const config::Config& cfg, const LoginRequest& request, const LoginRecord& r) {
  std::string line = "result=" + std::string(result_text(r.result)) + " user=" + log_value(r.user.empty() ? request.user : r.user) +
                     (r.login_name.empty() ? "" : " login_name=" + log_value(r.login_name)) +
                     (r.caller.empty() ? "" : " caller=" + log_value(r.caller)) +
                     " rhost=" + log_value(request.rhost) + " service=" + log_value(request.service) +
                     " provider=" + log_value(cfg.provider_name) + " channel=" + log_value(r.channel) +
                     " destination=" + log_value(r.destination) + " attempts=" + std::to_string(r.attempts) +
                     " latency_ms=" + std::to_string(r.provider_time.count() / 1000);
  if (!r.source.empty()) line += " source=" + log_value(r.source);
  if (r.directory_time) line += " directory_ms=" + std::to_string(r.directory_time->count() / 1000);
  if (!r.request_id.empty()) line += " request_id=" + log_value(r.request_id);
  if (!r.reason.empty()) line += " reason=" + log_value(r.reason);
  log.log(r.priority, line);
}

// Steps 7-9 (docs/design.md, "The login flow"), once the user has a destination. request.user is the owner of
// the destination (the caller in caller mode).
AuthResult run_provider(const config::Config& cfg, const config::UserEntry& entry, const LoginRequest& request,
                        const Destination& dest, int attempts_used, Services& services, LocalState& state,
                        LoginRecord& record) {
  provider::Variables vars(cfg.provider);
  set_login_variables(vars, cfg, entry, request, dest);
  std::optional<Secret> password;
  if (const auto ended = ensure_password(cfg, request, vars, *services.conversation, record, password)) return *ended;
  // The session's first step is the send, whose count the store can run
  // while the HTTP plugin loads (docs/design.md, "The state service").
  state.take_send_ahead(request.user, request.rhost, services.clock.unix_time());
  const auto transport = services.transports(cfg.tls);
  provider::Limits limits = config::limits(cfg);
  // The directory's time is the login's too (docs/design.md, "Destinations from the directory").
  if (record.directory_time)
    limits.deadline = std::max(std::chrono::milliseconds(0),
                               limits.deadline - std::chrono::duration_cast<std::chrono::milliseconds>(*record.directory_time));
  provider::ProviderClient client(cfg.provider, *transport, limits, services.log, cfg.debug);
  SessionContext context{cfg,           &client, vars,   *services.conversation, services.clock,
                         services.log,  request.silent, masked(dest), record, attempts_used,
                         password ? &*password : nullptr, &state, request.user, request.rhost, request.service,
                         request.caller_can_signal};
  const AuthResult result = run_session(context);
  record.provider_time = client.provider_time();
  if (auto id = vars.lookup("request_id")) record.request_id = shown_text(json::as_text(*id), 100);
  // What was sent where, as far as the provider's answer says (privacyIDEA
  // sends to every token the user has: sms+email).
  if (auto sent = vars.lookup("sent_channels"); sent && sent->isArray() && !sent->empty()) {
    const std::string channels = joined_channels(*sent);
    if (!channels.empty()) record.channel = channels;
  }
  return result;
}

// The channels a provider names, each once, in the order of our channel
// list (sms+email, whichever order privacyIDEA's challenges come in);
// names we do not know after them.
std::string joined_channels(const Json::Value& names) {
  std::vector<std::pair<std::size_t, std::string>> found;
  for (const auto& c : names) {
    if (!c.isString()) continue;
    const std::string name = sanitize(c.asString(), 20);
    std::size_t rank = provider::channels().size();
    for (std::size_t i = 0; i < provider::channels().size(); ++i)
      if (provider::channels()[i].name == name) rank = i;
    if (std::find(found.begin(), found.end(), std::make_pair(rank, name)) == found.end()) found.emplace_back(rank, name);
  }
  std::sort(found.begin(), found.end());
  std::string out;
  for (const auto& [rank, name] : found) out += (out.empty() ? "" : "+") + name;
  return out;
}

// The methods SSH_AUTH_INFO_0 lists, without their keys: "publickey, password" or "no method".
std::string describe_auth_info(const std::string& info) {
  std::string methods;
  for (const auto& step : ssh_auth_steps(info)) {
    const std::string name = std::string(step.method) + (step.submethod.empty() ? "" : "/" + std::string(step.submethod));
    methods += (methods.empty() ? "" : ", ") + sanitize(name, 40);
  }
  return methods.empty() ? "no method" : methods;
}

bool missing_ssh_methods(const config::Config& cfg, const LoginRequest& request, LoginRecord& record) {
  if (cfg.require_ssh_methods.empty() || ssh_methods_done(cfg.require_ssh_methods, request.ssh_auth_info)) return false;
  std::string methods;
  for (const auto& m : cfg.require_ssh_methods) methods += (methods.empty() ? "" : ",") + m;
  const std::string seen = !request.ssh_auth_info ? "SSH_AUTH_INFO_0 is not in the PAM environment"
                                                  : "SSH_AUTH_INFO_0 lists " + describe_auth_info(*request.ssh_auth_info);
  record.set(Result::SshMethodsMissing, "require_ssh_methods wants " + methods + " to have succeeded before this PAM stack, but " + seen +
                 "; nothing sent. sshd must run with AuthenticationMethods " + methods +
                 ",keyboard-interactive (check: sshd -T | grep -i authenticationmethods)");
  return true;
}

// Steps 2-5 (docs/design.md, "The login flow"): who it is, whether pam_otp
// covers this login, and whether it
// can go on at all. The passwd entry when it can go on; else result is set.
std::optional<UserInfo> check_login(const config::Config& cfg, const LoginRequest& request, Services& services,
                                    LoginRecord& record, AuthResult& result) {
  auto user = services.users.find_user(request.user);
  if (!user) {
    record.set(Result::UserUnknown, "no passwd entry");
    result = AuthResult::UserUnknown;
    return std::nullopt;
  }
  record.user = user->name;
  if (user->name != request.user) record.login_name = request.user;
  result = AuthResult::AuthErr;
  // Before scope: a user scoped out (PAM_IGNORE) ahead of pam_permit would
  // otherwise get in with no credential at all.
  if (missing_ssh_methods(cfg, request, record)) return std::nullopt;
  const auto scope = decide_scope(cfg, *user, services.users, request.service, request.rhost);
  for (const auto& problem : scope.problems) services.log.log(LOG_ERR, "scope: " + problem);
  if (!scope.in_scope) {
    record.set(Result::OutOfScope, scope.rule);
    result = AuthResult::Ignore;
    return std::nullopt;
  }
  if (request.authtok && is_incorrect_marker(request.authtok->reveal())) {
    record.set(Result::EarlierModuleFailed, "PAM_AUTHTOK holds OpenSSH's INCORRECT marker; nothing sent");
    return std::nullopt;
  }
  if (services.conversation == nullptr) {
    record.set(Result::ConversationFailed, LOG_ERR, "the application gave no conversation function; nothing sent");
    result = AuthResult::ConvErr;
    return std::nullopt;
  }
  return user;
}

// destination_user = "caller": for the caller services, the person who
// asked (PAM_RUSER, su's invoking user) owns the destination, the channel
// menu, the send limit and the recovery codes. Their passwd name; nullopt
// (record set) when PAM_RUSER names nobody. PAM_RUSER is the application's
// word: it counts only when it names the process's real uid (setuid su and
// sudo run with the caller's), or when that is root, who could become
// anyone anyway; otherwise the target's own destination is used.
std::optional<std::string> destination_owner(const config::Config& cfg, const LoginRequest& request,
                                             Services& services, LoginRecord& record) {
  if (!caller_owns_destination(cfg, request)) return request.user;
  const auto caller = services.users.find_user(request.ruser);
  if (!caller) {
    record.set(Result::UserUnknown, "the caller (PAM_RUSER) '" + sanitize(request.ruser, 64) +
                                               "' has no passwd entry; destination_user = \"caller\"");
    return std::nullopt;
  }
  if (request.real_uid && *request.real_uid != 0 && *request.real_uid != caller->uid) {
    services.log.log(LOG_NOTICE, "destination_user = \"caller\": PAM_RUSER '" + log_value(caller->name) +
                                     "' is not the caller's uid " + std::to_string(*request.real_uid) +
                                     "; the target's destination is used");
    return request.user;
  }
  if (caller->name != request.user) record.caller = caller->name;
  return caller->name;
}

// The directory could not answer (docs/design.md, "Destinations from the
// directory"): failmode decides, as for a provider that cannot be reached
// before the first send.
AuthResult directory_outage(const config::Config& cfg, const LoginRequest& request, const Known& known,
                            Services& services, LocalState& state, LoginRecord& record) {
  provider::Variables vars(cfg.provider);
  const Secret* password = request.authtok && !request.authtok->empty() ? &*request.authtok : nullptr;
  SessionContext context{cfg,          nullptr,        vars,      *services.conversation, services.clock,
                         services.log, request.silent, {},        record,                 0,
                         password,     &state,         request.user, request.rhost,       request.service,
                         request.caller_can_signal};
  return run_outage(context, outage_of(known));
}

// Where the owner's codes may go, from the sources in order; each value
// the directory had and left out gets a line of its own.
Known find_owner(const config::Loaded& loaded, const std::string& owner, Services& services, LoginRecord& record) {
  Known known = find_destinations(loaded, owner, services.directory_lookup, [&] { return services.clock.now(); });
  if (known.asked_directory) record.directory_time = known.directory_time;
  record.source = known.source;
  for (const auto& why : known.left_out)
    services.log.log(LOG_NOTICE, "directory: user=" + log_value(owner) + " entry=" + log_value(known.dn) +
                                     ": " + why + "; left out (never sent to the provider)");
  return known;
}

AuthResult authenticate_user(const config::Loaded& loaded, const LoginRequest& typed, Services& services,
                             LocalState& state, LoginRecord& record) {
  const config::Config& cfg = loaded.config;
  AuthResult result = AuthResult::AuthErr;
  const auto user = check_login(cfg, typed, services, record, result);
  if (!user) return result;
  // From here on every decision and request uses the passwd name: NSS maps
  // ALICE, alice@corp and CORP\alice to one account, the users file has one.
  LoginRequest target = typed;
  target.user = user->name;
  const auto owner = destination_owner(cfg, target, services, record);
  if (!owner) return AuthResult::AuthErr;
  LoginRequest request = target;
  request.user = *owner;
  const Known known = find_owner(loaded, request.user, services, record);
  // A caller without a destination proves nothing about the target account:
  // never "allow" there, or any local user could su to an enrolled one.
  const bool deny = request.user != target.user;
  switch (known.status) {
    case Known::Status::Outage:
      return directory_outage(cfg, request, known, services, state, record);
    case Known::Status::Nobody:
      return unenrolled(cfg, *services.conversation, request.silent, record, known.why, deny);
    case Known::Status::Listed:
      break;
  }
  const Client client{target.user, target.rhost, target.service, ssh_keys_of(target.ssh_auth_info)};
  if (state.remembered(client, services.clock.unix_time())) {
    record.set(Result::Remembered, "a code was verified from this client less than remember = " +
                                           std::to_string(cfg.remember) + " s ago; no code asked");
    return AuthResult::Success;
  }
  const std::string channel = preferred_channel(cfg, known.entry, request.channel);
  if (channel != "ask" && !cfg.provider.supports_channel(channel)) {
    record.set(Result::ConfigError, "provider '" + cfg.provider_name + "' has no channel '" + channel + "'");
    return AuthResult::ServiceErr;
  }
  const auto options = known.from_directory ? destination_options(cfg, known.listed, channel)
                                            : destination_options(cfg, known.entry, channel);
  if (options.empty())
    return unenrolled(cfg, *services.conversation, request.silent, record,
                      "no destination for channel '" + channel + "'", deny);
  const Secret* authtok = request.authtok && !request.authtok->empty() ? &*request.authtok : nullptr;
  const auto menu = choose_destination(cfg, options, *services.conversation, request.silent, authtok, record);
  if (!menu.choice) return menu.result;
  record.channel = menu.choice->channel;
  record.destination = masked(*menu.choice);
  const AuthResult done = run_provider(cfg, with_choice(known, *menu.choice), request, *menu.choice,
                                       menu.attempts_used, services, state, record);
  // Only a code the provider verified is remembered; a recovery code is not.
  if (done == AuthResult::Success && record.result == Result::Success && services.remember_logins)
    state.remember(client, services.clock.unix_time());
  return done;
}

}  // namespace

AuthResult authenticate(const config::Loaded& loaded, const LoginRequest& request, Services& services) {
  LoginRecord record;
  LocalState state(loaded.config, services.open_store, services.log, services.counted_sends_only,
                   services.use_state_service, services.open_shared_store);
  const AuthResult result = authenticate_user(loaded, request, services, state, record);
  log_result(services.log, loaded.config, request, record);
  return result;
}

bool caller_owns_destination(const config::Config& cfg, const LoginRequest& request) {
  return cfg.destination_user == config::DestinationUser::Caller && !request.ruser.empty() &&
         listed(cfg.caller_services, request.service);
}

bool is_incorrect_marker(std::string_view authtok) {
  static constexpr std::string_view kJunk = "\b\n\r\177INCORRECT";
  if (authtok.empty()) return false;
  for (std::size_t i = 0; i < authtok.size(); ++i)
    if (authtok[i] != kJunk[i % kJunk.size()]) return false;
  return true;
}

bool ssh_methods_done(const std::vector<std::string>& required, const std::optional<std::string>& auth_info) {
  if (!auth_info) return required.empty();
  const auto steps = ssh_auth_steps(*auth_info);
  return std::all_of(required.begin(), required.end(), [&](const std::string& method) {
    return std::any_of(steps.begin(), steps.end(), [&](const SshAuthStep& step) { return step.method == method; });
  });
}

AuthResult run_login(const std::vector<std::string>& module_args, const LoginRequest& request, Services& services) {
  Problems problems;
  const auto loaded = config::load(module_args, problems);
  if (!loaded) {
    int shown = 0;
    for (const auto& p : problems.list()) {
      if (p.warning) continue;
      if (++shown > 10) {
        services.log.log(LOG_ERR, "configuration: more problems; run 'pam-otp check' to see all");
        break;
      }
      services.log.log(LOG_ERR, "configuration error: " + p.to_string());
    }
    services.log.log(result_priority(Result::ConfigError),
                     "result=" + std::string(result_text(Result::ConfigError)) + " user=" + log_value(request.user) +
                         " service=" + log_value(request.service) + " reason=\"nothing was sent\"");
    return AuthResult::ServiceErr;
  }
  return authenticate(*loaded, request, services);
}

}  // namespace otp::flow
