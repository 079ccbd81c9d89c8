#include "provider/client.h"

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "base/json.h"
#include "base/text.h"
#include "http/url_policy.h"
#include "provider/jwt.h"
#include "provider/request.h"

namespace otp::provider {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

PhaseResult unavailable(std::string detail) { return {Outcome::Unavailable, {}, true, std::nullopt, std::move(detail)}; }

// An answer that says the provider cannot serve: remote when it is a 5xx.
PhaseResult server_failure(std::string detail, bool server_error) {
  PhaseResult r = unavailable(std::move(detail));
  r.remote = server_error;
  return r;
}

// A connection the network refused: a closed port, no route, an unreachable
// host. Not what stopping this process or lowering its limits produces.
bool said_by_the_network(int os_error) {
  return os_error == ECONNREFUSED || os_error == EHOSTUNREACH || os_error == ENETUNREACH;
}

std::string host_of(const std::string& url) {
  const auto parts = http::parse_url(url);
  return parts ? parts->host : "?";
}

// For the log: where a request went, without its path (which may carry a user's data).
std::string describe(const Step& step, const std::string& url) {
  return step.method + " " + host_of(url) + " (step at " + step.where + ")";
}

}  // namespace

ProviderClient::ProviderClient(const ProviderSpec& spec, http::Transport& transport, Limits limits, Logger& log,
                               bool debug)
    : spec_(spec), transport_(transport), limits_(limits), log_(log), debug_(debug), started_(std::time(nullptr)) {}

milliseconds ProviderClient::remaining() const {
  return std::max(milliseconds(0), limits_.deadline - duration_cast<milliseconds>(spent_));
}

PhaseResult ProviderClient::run(Phase phase, Variables& vars) {
  bool ran = false;
  for (const auto& step : spec_.steps(phase)) {
    try {
      if (!conditions_hold(step.when, vars)) continue;
    } catch (const RequestBuildError& e) {
      return {Outcome::ConfigError, {}, true, std::nullopt, std::string("step at ") + step.where + ": " + e.what()};
    }
    ran = true;
    PhaseResult result = run_step(step, vars);
    if (result.outcome != Outcome::Continue) return result;
  }
  const char* name = phase == Phase::Send ? "send" : "verify";
  return {Outcome::ConfigError, {}, true, std::nullopt,
          ran ? std::string("the last ") + name + " step said 'continue'"
              : std::string("no ") + name + " step applies (check the steps' 'when' conditions)"};
}

PhaseResult ProviderClient::run_step(const Step& step, Variables& vars) {
  const bool relative = !is_absolute_url(step.url);
  const std::size_t count = relative ? spec_.base_urls.size() : 1;
  if (count == 0) return {Outcome::ConfigError, {}, true, std::nullopt, "no base_url for step at " + step.where};
  PhaseResult last;
  bool untrusted = false;  // any base URL on the way
  bool remote = true;      // every one
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t index = (base_index_ + i) % count;
    Verdict verdict = exchange(step, relative ? spec_.base_urls[index] : std::string(), vars);
    untrusted = untrusted || verdict.result.untrusted;
    remote = remote && verdict.result.remote;
    if (!verdict.failover) {
      if (relative && verdict.result.outcome != Outcome::Unavailable) base_index_ = index;
      if (verdict.result.outcome == Outcome::Unavailable) {
        verdict.result.untrusted = untrusted;
        verdict.result.remote = remote;
      }
      return verdict.result;
    }
    last = std::move(verdict.result);
  }
  last.untrusted = untrusted;
  last.remote = remote;
  return last;
}

ProviderClient::Verdict ProviderClient::exchange(const Step& step, const std::string& base, Variables& vars) {
  if (remaining() <= milliseconds(0))
    return {unavailable("the deadline of " + std::to_string(limits_.deadline.count() / 1000) +
                        " s of provider time is used up"), false};
  http::Request request;
  try {
    request = provider::build_request(spec_, step, base, vars);
  } catch (const RequestBuildError& e) {
    return {{Outcome::ConfigError, {}, true, std::nullopt, "step at " + step.where + ": " + e.what()}, false};
  }
  const auto started = std::chrono::steady_clock::now();
  http::Response response = timed(request);
  const auto measured = duration_cast<microseconds>(std::chrono::steady_clock::now() - started);
  Verdict verdict = interpret(step, response, vars);
  wipe(response.body);  // it may carry tokens (a session JWT, ...)
  if (verdict.jwt) {
    if (auto instead = check_session(step, vars, *verdict.jwt)) verdict.result = std::move(*instead);
    wipe(*verdict.jwt);
  }
  verdict.result.detail = describe(step, request.url) + ": " + verdict.result.detail;
  if (debug_)
    log_.log(LOG_DEBUG, "exchange " + verdict.result.detail + " in " +
                            std::to_string(std::max(measured, response.elapsed).count() / 1000) + " ms");
  return verdict;
}

// One exchange within the login's limits, its time counted.
http::Response ProviderClient::timed(const http::Request& request) {
  http::Request limited = request;
  limited.timeout = std::min(limits_.timeout, remaining());
  limited.connect_timeout = std::min(limits_.connect_timeout, limited.timeout);
  const auto started = std::chrono::steady_clock::now();
  http::Response response = transport_.perform(limited);
  spent_ += std::max(duration_cast<microseconds>(std::chrono::steady_clock::now() - started), response.elapsed);
  return response;
}

// The provider's signature on its acceptance, by the keys of keys_file,
// for the user this login is about: nullopt when it proves the acceptance,
// else what the answer counts as instead (a token that fails: unavailable;
// nothing to compare it with, such as a user without user_id: config_error).
std::optional<PhaseResult> ProviderClient::check_session(const Step& step, const Variables& vars,
                                                        const std::string& jwt) const {
  if (step.jwt.keys.isNull()) return unavailable("session token: no keys (keys_file was not read)");
  std::string subject, issuer;
  try {
    subject = expand_text(step.jwt.subject, vars);
    if (!step.jwt.issuer.empty()) issuer = expand_text(step.jwt.issuer, vars);
  } catch (const RequestBuildError& e) {
    return PhaseResult{Outcome::ConfigError, {}, true, std::nullopt,
                       std::string("session token: nothing to compare its subject or issuer with (validate_session needs user_id on the user's line of the users file): ") + e.what()};
  }
  if (auto why = verify_jwt(jwt, step.jwt.keys, {subject, issuer, started_, std::time(nullptr)}))
    return unavailable("session token: " + *why);
  return std::nullopt;
}

ProviderClient::Verdict ProviderClient::interpret(const Step& step, const http::Response& response,
                                                  Variables& vars) const {
  if (response.failure == http::Failure::Refused) {
    PhaseResult refused{Outcome::ConfigError, {}, true, std::nullopt, response.error};
    refused.local = true;
    return {std::move(refused), false};
  }
  if (response.failure != http::Failure::None) {
    PhaseResult failed = unavailable(std::string(http::failure_name(response.failure)) + ": " + sanitize(response.error, 200));
    failed.untrusted = response.failure == http::Failure::Untrusted;
    failed.remote = response.failure == http::Failure::Connect && said_by_the_network(response.os_error);
    return {std::move(failed), true};
  }
  const std::string status = "HTTP " + std::to_string(response.status);
  const bool server_error = response.status >= 500;
  std::optional<Json::Value> doc;
  if (!trim(response.body).empty()) {
    doc = json::parse(response.body);
    if (!doc) return {server_failure(status + " with a body that is not valid JSON", server_error), server_error};
  }
  struct WipeDoc {
    std::optional<Json::Value>& doc;
    ~WipeDoc() { if (doc) json::wipe(*doc); }
  } wipe_doc{doc};
  const Answer answer{response.status, &response.headers, doc ? &*doc : nullptr};
  const auto verdict = classify({&spec_.rules_first, &step.rules, &spec_.rules}, answer, std::chrono::system_clock::now());
  if (!verdict) return {server_failure(status + " matched no rule", server_error), server_error};
  if (verdict->outcome == Outcome::Retry)
    return {server_failure(status + " is transient (rule at " + verdict->rule->where + ")" +
                               (verdict->reason.empty() ? "" : ": " + verdict->reason),
                           server_error),
            true};
  for (const auto& [name, pointers] : step.save) {
    for (const auto& pointer : pointers) {
      auto v = doc ? json::resolve_all(*doc, pointer) : std::nullopt;
      if (!v) continue;
      vars.save(name, std::move(*v));
      break;
    }
  }
  PhaseResult result{verdict->outcome, verdict->reason, verdict->show_reason, verdict->retry_after,
                     status + " -> " + std::string(outcome_name(verdict->outcome)) + " (rule at " + verdict->rule->where + ")" +
                         (verdict->rule->hint.empty() ? "" : ": " + verdict->rule->hint)};
  if (verdict->outcome == Outcome::Sent && step.expiry.enabled() && doc) {
    const Validity validity = code_validity(*doc, step.expiry);
    result.valid_for = validity.seconds;
    result.detail += "; " + validity.why;
  }
  Verdict out{std::move(result), false, std::nullopt};
  if (verdict->outcome == Outcome::Accepted && step.jwt.enabled() && conditions_hold(step.jwt_when, vars)) {
    const Json::Value* token = doc ? json::resolve(*doc, step.jwt.token) : nullptr;
    out.jwt = token && token->isString() ? token->asString() : std::string();
  }
  return out;
}

}  // namespace otp::provider
