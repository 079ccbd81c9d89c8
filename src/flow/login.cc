#include "flow/login.h"

#include "base/json.h"
#include "base/text.h"
#include "flow/destinations.h"
#include "flow/record.h"
#include "flow/scope.h"
#include "flow/session.h"
#include "provider/client.h"
#include "provider/variables.h"

namespace otp::flow {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

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

// A provider that logs in with the user's password (Baanx) needs PAM_AUTHTOK;
// when no earlier module left one, the user is asked for it.
bool ensure_password(const config::Config& cfg, const LoginRequest& request, provider::Variables& vars,
                     Conversation& conversation, LoginRecord& record) {
  // An empty PAM_AUTHTOK is no password either (and some modules wipe theirs).
  if (!cfg.provider.uses_password || (request.authtok && !request.authtok->empty())) return true;
  auto password = conversation.ask(cfg.messages.at("password_prompt"), false);
  if (!password) {
    record.set("conversation_failed", LOG_NOTICE, "no answer to the password prompt");
    return false;
  }
  vars.set_builtin_secret("password", *password);
  return true;
}

void log_result(Logger& log, const config::Config& cfg, const LoginRequest& request, const LoginRecord& r) {
  std::string line = "result=" + log_value(r.result) + " user=" + log_value(request.user) +
                     " rhost=" + log_value(request.rhost) + " service=" + log_value(request.service) +
                     " provider=" + log_value(cfg.provider_name) + " channel=" + log_value(r.channel) +
                     " destination=" + log_value(r.destination) + " attempts=" + std::to_string(r.attempts) +
                     " latency_ms=" + std::to_string(r.provider_time.count() / 1000);
  if (!r.request_id.empty()) line += " request_id=" + log_value(r.request_id);
  if (!r.reason.empty()) line += " reason=" + log_value(r.reason);
  log.log(r.priority, line);
}

http::TlsOptions tls_options(const config::Config& cfg) {
  return {cfg.tls.ca_file, cfg.tls.pinned_public_key, cfg.tls.client_cert, cfg.tls.client_key, cfg.tls.proxy};
}

// Steps 7-9, once the user has a destination.
AuthResult run_provider(const config::Config& cfg, const config::UserEntry& entry, const LoginRequest& request,
                        const Destination& dest, int attempts_used, Services& services, LoginRecord& record) {
  const auto transport = services.transports(tls_options(cfg));
  const provider::Limits limits{seconds(cfg.timeout), seconds(cfg.connect_timeout), seconds(cfg.deadline)};
  provider::ProviderClient client(cfg.provider, *transport, limits, services.log, cfg.debug);
  provider::Variables vars(cfg.provider);
  set_login_variables(vars, cfg, entry, request, dest);
  if (!ensure_password(cfg, request, vars, *services.conversation, record)) return AuthResult::ConvErr;
  SessionContext context{cfg, client, vars, *services.conversation, services.clock, services.log,
                         request.silent, dest.address, record, attempts_used};
  const AuthResult result = run_session(context);
  record.provider_time = client.provider_time();
  if (auto id = vars.lookup("request_id")) record.request_id = sanitize(json::as_text(*id), 100);
  return result;
}

// Steps 2-5: who it is, whether pam_otp covers this login, and whether it
// can go on at all. nullopt: go on.
std::optional<AuthResult> check_login(const config::Config& cfg, const LoginRequest& request, Services& services,
                                      LoginRecord& record) {
  const auto user = services.users.find_user(request.user);
  if (!user) {
    record.set("user_unknown", LOG_NOTICE, "no passwd entry");
    return AuthResult::UserUnknown;
  }
  const auto scope = decide_scope(cfg, *user, services.users, request.service, request.rhost);
  if (!scope.in_scope) {
    record.set("out_of_scope", LOG_INFO, scope.rule);
    return AuthResult::Ignore;
  }
  if (request.authtok && request.authtok->reveal() == kIncorrectMarker) {
    record.set("earlier_module_failed", LOG_NOTICE, "PAM_AUTHTOK holds Linux-PAM's INCORRECT marker; nothing sent");
    return AuthResult::AuthErr;
  }
  if (services.conversation == nullptr) {
    record.set("conversation_failed", LOG_ERR, "the application gave no conversation function; nothing sent");
    return AuthResult::ConvErr;
  }
  return std::nullopt;
}

AuthResult unenrolled(const config::Config& cfg, const LoginRequest& request, Services& services, LoginRecord& record,
                      const std::string& why) {
  const bool allow = cfg.unenrolled == config::Unenrolled::Allow;
  record.set("unenrolled", allow ? LOG_INFO : LOG_NOTICE, why + (allow ? "; unenrolled=allow" : "; unenrolled=deny"));
  if (allow) return AuthResult::Ignore;
  if (!request.silent) services.conversation->error(cfg.messages.at("failed"));
  return AuthResult::AuthErr;
}

AuthResult authenticate_user(const config::Loaded& loaded, const LoginRequest& request, Services& services,
                             LoginRecord& record) {
  const config::Config& cfg = loaded.config;
  if (auto done = check_login(cfg, request, services, record)) return *done;
  const auto entry = loaded.users.find(request.user);
  if (!entry) return unenrolled(cfg, request, services, record, "not in the users file");
  const std::string channel = preferred_channel(cfg, *entry, request.channel);
  if (channel != "ask" && !cfg.provider.supports_channel(channel)) {
    record.set("config_error", LOG_ERR, "provider '" + cfg.provider_name + "' has no channel '" + channel + "'");
    return AuthResult::ServiceErr;
  }
  const auto options = destination_options(cfg, *entry, channel);
  if (options.empty()) return unenrolled(cfg, request, services, record, "no destination for channel '" + channel + "'");
  const auto menu = choose_destination(cfg, options, *services.conversation, request.silent, record);
  if (!menu.choice) return menu.result;
  record.channel = menu.choice->channel;
  record.destination = menu.choice->address.empty() ? "" : mask_destination(menu.choice->address);
  return run_provider(cfg, *entry, request, *menu.choice, menu.attempts_used, services, record);
}

}  // namespace

AuthResult authenticate(const config::Loaded& loaded, const LoginRequest& request, Services& services) {
  LoginRecord record;
  const AuthResult result = authenticate_user(loaded, request, services, record);
  log_result(services.log, loaded.config, request, record);
  return result;
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
    services.log.log(LOG_ERR, "result=config_error user=" + log_value(request.user) + " service=" +
                                  log_value(request.service) + " reason=\"nothing was sent\"");
    return AuthResult::ServiceErr;
  }
  return authenticate(*loaded, request, services);
}

}  // namespace otp::flow
