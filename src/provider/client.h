// Runs one phase (send or verify) of a provider description against a
// transport: builds each request from its templates, fails over between
// base URLs, enforces the per-exchange timeouts and the login's deadline,
// classifies the answer with the rules and saves values for later steps.
#pragma once

#include <chrono>
#include <ctime>
#include <optional>
#include <string>

#include "base/logger.h"
#include "http/transport.h"
#include "provider/spec.h"
#include "provider/variables.h"

namespace otp::provider {

// The default of the deadline key.
inline constexpr std::chrono::seconds kDefaultDeadline{120};

struct Limits {
  std::chrono::milliseconds timeout{http::kDefaultTimeout};  // one exchange
  std::chrono::milliseconds connect_timeout{http::kDefaultConnectTimeout};
  std::chrono::milliseconds deadline{kDefaultDeadline};  // provider time for the whole login
};

struct PhaseResult {
  Outcome outcome = Outcome::Unavailable;
  std::string reason;               // the provider's own words, sanitized; may be empty
  bool show_reason = true;          // false: the reason is for the log only
  std::optional<long> retry_after;  // seconds, for locked / rate_limited
  std::string detail;               // what happened, for the log (no secrets)
  // A provider's TLS identity failed verification on the way (certificate,
  // host name, pin): what an on-path attacker produces. Never fail-open.
  bool untrusted = false;
  // Refused on this machine (the URL policy, an HTTP plugin that cannot be
  // loaded, no descriptors or memory): nothing the provider said.
  bool local = false;
  // Unavailable, and said so by the network or the provider on every URL
  // tried: a refused connection, an unreachable host, an HTTP 5xx answer.
  // Nothing a local process's caller can produce by stopping the process or
  // lowering its limits (a timeout, a reset, a lookup that failed).
  bool remote = false;
  // Sent: how long the code is valid, when the answer says (valid_until).
  std::optional<long> valid_for = std::nullopt;
};

class ProviderClient {
 public:
  ProviderClient(const ProviderSpec& spec, http::Transport& transport, Limits limits, Logger& log, bool debug);

  PhaseResult run(Phase phase, Variables& vars);

  std::chrono::microseconds provider_time() const { return spent_; }

 private:
  struct Verdict {
    PhaseResult result;
    bool failover = false;  // try the next base URL
    // For a step with validate_jwt that was accepted: the token, taken from
    // the answer before it is wiped.
    std::optional<std::string> jwt = std::nullopt;
  };

  PhaseResult run_step(const Step& step, Variables& vars);
  Verdict exchange(const Step& step, const std::string& base, Variables& vars);
  Verdict interpret(const Step& step, const http::Response& response, Variables& vars) const;
  std::chrono::milliseconds remaining() const;
  std::optional<PhaseResult> check_session(const Step& step, const Variables& vars, const std::string& jwt) const;
  http::Response timed(const http::Request& request);

  const ProviderSpec& spec_;
  http::Transport& transport_;
  Limits limits_;
  Logger& log_;
  bool debug_;
  std::size_t base_index_ = 0;  // the base URL that answered last
  std::chrono::microseconds spent_{0};
  std::time_t started_;  // a session token must be issued after this (less leeway)
};


}  // namespace otp::provider
