#include "flow/session.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "base/json.h"
#include "base/text.h"
#include "config/messages.h"
#include "flow/login.h"
#include "store/recovery_codes.h"

namespace otp::flow {
namespace {

using provider::Outcome;
using provider::Phase;
using provider::PhaseResult;

constexpr std::size_t kMaxAnswer = 256;
// Taken off a validity the provider states, for the way there and back:
// a code typed this close to its end is treated as expired.
constexpr std::chrono::seconds kExpiryMargin{2};

// What a message's {seconds}/{minutes} (one wait; minutes rounded up) and
// {count} placeholders show.
struct Numbers {
  long seconds = 0;
  long count = 0;
};

class Session {
 public:
  explicit Session(SessionContext& c)
      : c_(c),
        attempts_left_(c.config.attempts - c.attempts_used),
        resends_left_(c.config.resends),
        early_empty_left_(c.config.attempts) {}

  AuthResult run();
  // failmode's decision, before or after a code was sent.
  AuthResult unavailable(const Outage& o);

 private:
  AuthResult prompt_loop();
  void spend_attempt() {
    --attempts_left_;
    c_.record.attempts = c_.config.attempts - attempts_left_;
  }
  std::optional<AuthResult> send();
  std::optional<AuthResult> on_empty_answer();
  std::optional<AuthResult> on_code(const Secret& code);
  std::optional<AuthResult> on_expired(const std::string& why);
  std::optional<AuthResult> refuse_locally();
  std::optional<AuthResult> on_recovery_code(const Secret& code, bool outage);
  std::optional<AuthResult> spend_on_wrong_recovery_code(const std::string& why);
  std::optional<AuthResult> refuse_over_send_limit();
  AuthResult outage(const std::string& detail);
  AuthResult no_code_needed(const PhaseResult& r);
  AuthResult on_failure(const PhaseResult& r, const char* phase);
  AuthResult lockout(const PhaseResult& r);
  AuthResult unavailable(const PhaseResult& r);

  std::string message(const std::string& key, Numbers numbers = {}) const;
  void show_provider_message();
  std::string shown_destination() const;
  void tell_error(const std::string& text) { if (!c_.silent) c_.conversation.error(text); }
  void tell_info(const std::string& text) { if (!c_.silent) c_.conversation.info(text); }

  SessionContext& c_;
  int attempts_left_;
  int resends_left_;
  // Empty answers during the resend cooldown cost nothing else, so they have
  // a budget of their own: a login prompts at most 2 * attempts + resends
  // times (codes, resends, early Enters), whatever the client answers.
  int early_empty_left_;
  bool code_sent_ = false;  // failmode applies only until the first code is sent
  bool expired_ = false;
  std::chrono::steady_clock::time_point last_send_{};
  // When the provider says the code expires (valid_until in its answer).
  std::optional<std::chrono::steady_clock::time_point> valid_until_;
};

// The provider's own masked form when it gives one (masked by us if it came
// unmasked), else ours, else nothing better than "your device".
std::string Session::shown_destination() const {
  if (auto shown = c_.vars.lookup("masked_destination"); shown && shown->isString() && !shown->asString().empty()) {
    const std::string text = sanitize(shown->asString(), 80);
    return text.find('*') != std::string::npos ? mask_contacts(text) : mask_destination(text);
  }
  if (!c_.destination.empty()) return c_.destination;
  return "your device";
}

// A provider's own words about the code it sent (privacyIDEA's challenge
// message), saved by a step as sent_message, shown before the prompt.
void Session::show_provider_message() {
  if (auto text = c_.vars.lookup("sent_message"); text && text->isString() && !text->asString().empty())
    tell_info(shown_text(text->asString(), 200));
}

std::string Session::message(const std::string& key, Numbers numbers) const {
  const auto it = c_.config.messages.find(key);
  const std::string text = it != c_.config.messages.end() ? it->second : key;
  return config::render(text, {{"destination", shown_destination()},
                               {"attempts_left", std::to_string(attempts_left_)},
                               {"attempts_word", attempts_left_ == 1 ? "attempt" : "attempts"},
                               {"minutes", std::to_string(minutes_for(numbers.seconds))},
                               {"seconds", std::to_string(numbers.seconds)},
                               {"count", std::to_string(numbers.count)}});
}

AuthResult Session::run() {
  c_.record.attempts = c_.attempts_used;  // invalid menu choices, before the session
  return prompt_loop();
}

AuthResult Session::prompt_loop() {
  if (auto done = send()) return *done;
  for (;;) {
    const std::string prompt = message(resends_left_ > 0 ? "prompt" : "prompt_no_resend");
    // A recovery code may be typed here (recovery = "always"): never echoed then.
    const bool echo = c_.config.echo_code && c_.config.recovery != config::RecoveryUse::Always;
    auto answer = c_.conversation.ask(prompt, echo);
    if (!answer) {
      c_.record.set(Result::ConversationFailed, "no answer to the code prompt (EOF or conversation error)");
      return AuthResult::ConvErr;
    }
    if (answer_ends_login(*answer, c_.password, c_.record)) {
      tell_error(message("failed"));
      return AuthResult::AuthErr;
    }
    Secret code(trim(answer->reveal()).substr(0, kMaxAnswer));
    std::optional<AuthResult> done;
    const auto recovery = c_.config.recovery == config::RecoveryUse::Always && c_.state != nullptr
                              ? store::normalize_recovery_code(code.reveal())
                              : std::nullopt;
    if (recovery) done = on_recovery_code(*recovery, false);
    else if (code.empty() && resends_left_ > 0) done = on_empty_answer();
    else if (!is_utf8(code.reveal()) || !c_.config.code_pattern.matches(code.c_str())) done = refuse_locally();
    else done = on_code(code);
    if (done) return *done;
  }
}

std::optional<AuthResult> Session::send() {
  if (auto refused = refuse_over_send_limit()) return refused;
  const PhaseResult r = c_.client->run(Phase::Send, c_.vars);
  switch (r.outcome) {
    case Outcome::Sent:
      last_send_ = c_.clock.now();
      code_sent_ = true;
      expired_ = false;
      valid_until_.reset();
      if (r.valid_for) valid_until_ = last_send_ + std::max(std::chrono::seconds(*r.valid_for) - kExpiryMargin,
                                                            std::chrono::seconds(*r.valid_for) / 2);
      show_provider_message();
      return std::nullopt;
    case Outcome::Accepted:
    case Outcome::NotRequired:
      return no_code_needed(r);
    case Outcome::WrongCode:
    case Outcome::WrongOrExpired:
    case Outcome::Expired:
    case Outcome::Locked:
    case Outcome::Disabled:
    case Outcome::WrongPin:
    case Outcome::RateLimited:
    case Outcome::UnknownUser:
    case Outcome::ConfigError:
    case Outcome::Retry:
    case Outcome::Continue:
    case Outcome::Unavailable:
      return on_failure(r, "send");
  }
  return on_failure(r, "send");  // not reached: every outcome has its case
}

std::optional<AuthResult> Session::on_empty_answer() {
  const auto since = std::chrono::duration_cast<std::chrono::seconds>(c_.clock.now() - last_send_).count();
  const long wait = c_.config.resend_cooldown - since;
  if (!expired_ && wait > 0) {
    if (--early_empty_left_ < 0) {
      c_.record.set(Result::MaxTries, "too many empty answers during the resend cooldown");
      tell_error(message("failed"));
      return AuthResult::MaxTries;
    }
    tell_error(message("resend_wait", {.seconds = wait}));
    return std::nullopt;
  }
  --resends_left_;
  if (auto done = send()) return done;
  tell_info(message("resent"));
  return std::nullopt;
}

std::optional<AuthResult> Session::refuse_locally() {
  spend_attempt();
  if (attempts_left_ <= 0) {
    c_.record.set(Result::MaxTries, "the last answer did not match code_pattern");
    tell_error(message("invalid_code_final"));
    return AuthResult::MaxTries;
  }
  tell_error(message("invalid_code"));
  return std::nullopt;
}

std::optional<AuthResult> Session::on_code(const Secret& code) {
  // Checking a code the provider already let expire only raises its fail
  // counter (privacyIDEA): it is not sent.
  if (valid_until_ && c_.clock.now() >= *valid_until_)
    return on_expired("the code was typed after the expiry time the provider gave at send; it was not sent");
  c_.vars.set_builtin_secret("code", code);
  const PhaseResult r = c_.client->run(Phase::Verify, c_.vars);
  c_.vars.unset_builtin("code");
  switch (r.outcome) {
    case Outcome::Accepted:
      c_.record.attempts = c_.config.attempts - attempts_left_ + 1;  // this one too
      c_.record.set(Result::Success);
      return AuthResult::Success;
    case Outcome::WrongCode:
    case Outcome::WrongOrExpired: {
      spend_attempt();
      // Where the provider cannot tell a wrong code from an expired one
      // (privacyIDEA), the user is told it may have expired, and Enter then
      // gets a new code at once.
      // When the provider said how long the code is valid, and that time has
      // not passed (on_code checked), the code was wrong, not expired.
      const bool maybe_expired = r.outcome == Outcome::WrongOrExpired && !valid_until_ && resends_left_ > 0;
      if (maybe_expired) expired_ = true;
      tell_error(message(attempts_left_ <= 0 ? "wrong_code_final" : maybe_expired ? "wrong_or_expired" : "wrong_code"));
      if (attempts_left_ > 0) return std::nullopt;
      c_.record.set(Result::MaxTries, "wrong code, no attempts left");
      return AuthResult::MaxTries;
    }
    case Outcome::Expired:
      return on_expired("the provider says the code expired");
    case Outcome::Sent:
    case Outcome::NotRequired:
    case Outcome::Locked:
    case Outcome::Disabled:
    case Outcome::WrongPin:
    case Outcome::RateLimited:
    case Outcome::UnknownUser:
    case Outcome::ConfigError:
    case Outcome::Retry:
    case Outcome::Continue:
    case Outcome::Unavailable:
      return on_failure(r, "verify");
  }
  return on_failure(r, "verify");  // not reached: every outcome has its case
}

// Every expired code costs an attempt, whether the provider checked it or
// not, so that typing codes at an expired one prompts a bounded number of
// times.
std::optional<AuthResult> Session::on_expired(const std::string& why) {
  expired_ = true;
  spend_attempt();
  if (resends_left_ > 0 && attempts_left_ > 0) {
    tell_error(message("expired"));
    return std::nullopt;
  }
  tell_error(message("expired_final"));
  c_.record.set(Result::Expired, why + (resends_left_ > 0 ? "; no attempt is left" : "; no resend is left"));
  return AuthResult::AuthErr;
}

// No code was verified, so this is never a success: before any code was
// sent the user is "not enrolled at the provider"; after one, a refusal.
AuthResult Session::no_code_needed(const PhaseResult& r) {
  if (!code_sent_) return unenrolled(c_.config, c_.conversation, c_.silent, c_.record,
                                     "the provider asked for no code (" + r.detail + ")", !c_.record.caller.empty());
  c_.record.set(Result::Rejected, "at the resend, the provider asked for no code (" + r.detail + ")");
  tell_error(message("failed"));
  return AuthResult::AuthErr;
}

AuthResult Session::on_failure(const PhaseResult& r, const char* phase) {
  // What happened, with the provider's own words when it gave some.
  const std::string said = std::string(phase) + ": " + r.detail + (r.reason.empty() ? "" : " (" + r.reason + ")");
  switch (r.outcome) {
    case Outcome::Locked:
    case Outcome::RateLimited:
      return lockout(r);
    case Outcome::UnknownUser:
    case Outcome::WrongCode:
    case Outcome::Expired:
      c_.record.set(Result::Rejected, said);
      tell_error(message("failed"));
      return AuthResult::AuthErr;
    case Outcome::Disabled:
      c_.record.set(Result::Disabled,
                    said + " - the user's token is disabled at the provider; an administrator there can enable it");
      tell_error(message("disabled"));
      return AuthResult::AuthErr;
    case Outcome::WrongPin:
      c_.record.set(Result::WrongPin,
                    said + " - the provider refused the PIN pam_otp sent to start the challenge; nothing was sent");
      tell_error(message("failed"));
      return AuthResult::AuthErr;
    case Outcome::Unavailable:
      return unavailable(r);
    case Outcome::ConfigError:
    // Outcomes that make no sense here (a rule's, at the wrong phase) are
    // the provider description's fault.
    case Outcome::Sent:
    case Outcome::Accepted:
    case Outcome::NotRequired:
    case Outcome::WrongOrExpired:
    case Outcome::Retry:
    case Outcome::Continue:
      c_.record.set(Result::ConfigError,
                    said + (r.local ? " - refused on this machine"
                                    : " - the provider rejected our credentials or the provider description is wrong"));
      tell_error(message("unavailable"));
      return AuthResult::ServiceErr;
  }
  return AuthResult::ServiceErr;  // not reached: every outcome has its case
}

AuthResult Session::lockout(const PhaseResult& r) {
  const bool locked = r.outcome == Outcome::Locked;
  // The provider's words when its rule lets the user see them; they are
  // always in the log.
  std::string text = r.reason.empty() || !r.show_reason ? message(locked ? "locked" : "rate_limited") : r.reason;
  if (r.retry_after) {
    // The provider's reason may lack a final stop: "Too many attempts. Try again..."
    if (!text.empty() && std::string_view(".!?").find(text.back()) == std::string_view::npos) text += ".";
    text += " " + message("retry_in", {.seconds = *r.retry_after});
  }
  tell_error(text);
  c_.record.set(locked ? Result::Locked : Result::RateLimited,
                r.detail + (r.reason.empty() ? "" : " (" + r.reason + ")") +
                    (r.retry_after ? ", retry after " + std::to_string(*r.retry_after) + " s" : ""));
  return AuthResult::MaxTries;
}

// Every code sent (first sends and resends) counts against send_limit, per
// owner and per rhost, across logins; over it nothing is sent.
std::optional<AuthResult> Session::refuse_over_send_limit() {
  if (c_.state == nullptr) return std::nullopt;
  const auto refused = c_.state->take_send(c_.owner, c_.rhost, c_.clock.unix_time());
  if (!refused) return std::nullopt;
  if (refused->local) {
    c_.record.set(Result::ConfigError, refused->limit + "; nothing sent: where the caller can stop this process "
                                       "(su, sudo) a send that cannot be counted is refused");
    tell_error(message("unavailable"));
    return AuthResult::ServiceErr;
  }
  c_.record.set(Result::SendLimited, refused->limit + "; nothing sent (a code can be sent again in " +
                    std::to_string(refused->retry_after) + " s)");
  tell_error(message("send_limited", {.seconds = refused->retry_after}));
  return AuthResult::MaxTries;
}

// A recovery code typed at a prompt: used up when right (LOG_ALERT, with
// what is left); a wrong one costs an attempt like a wrong code.
std::optional<AuthResult> Session::on_recovery_code(const Secret& code, bool outage) {
  const auto answer = c_.state->use_recovery_code(c_.owner, code, c_.service, c_.clock.unix_time());
  switch (answer.check) {
    case RecoveryCheck::Accepted:
      c_.record.set(Result::RecoveryCode, std::string("a recovery code was used") + (outage ? " while the provider is unavailable" : "") +
                        ", " + std::to_string(answer.left) + " left (pam-otp recovery issue " + c_.owner +
                        " makes new ones)");
      tell_info(message(answer.left == 0 ? "recovery_used_last" : "recovery_used", {.count = answer.left}));
      return AuthResult::Success;
    case RecoveryCheck::Wrong:
      return spend_on_wrong_recovery_code("wrong recovery code");
    case RecoveryCheck::NoCodes:
      return spend_on_wrong_recovery_code("a recovery code was typed, but " + c_.owner + " has none left");
    case RecoveryCheck::Locked:
      c_.record.set(Result::Locked, std::to_string(kRecoveryTries) + " recovery codes were tried within " +
                        std::to_string(kRecoveryTryWindow / 60) + " minutes; recovery locked for " +
                        std::to_string(answer.retry_after) + " s");
      tell_error(message("locked") + " " + message("retry_in", {.seconds = answer.retry_after}));
      return AuthResult::MaxTries;
    case RecoveryCheck::Unavailable:
      if (outage) {
        tell_error(message("recovery_unavailable"));
        c_.record.set(Result::Unavailable, "the provider is unavailable and the state file cannot be read");
        return AuthResult::AuthInfoUnavail;
      }
      // The sent code still works; the answer costs an attempt, so that
      // prompts stay bounded.
      tell_error(message("recovery_unavailable"));
      spend_attempt();
      if (attempts_left_ > 0) return std::nullopt;
      c_.record.set(Result::MaxTries, "a recovery code could not be checked (state file), no attempts left");
      return AuthResult::MaxTries;
  }
  return AuthResult::AuthErr;
}

std::optional<AuthResult> Session::spend_on_wrong_recovery_code(const std::string& why) {
  spend_attempt();
  tell_error(message(attempts_left_ <= 0 ? "wrong_code_final" : "wrong_code"));
  if (attempts_left_ > 0) return std::nullopt;
  c_.record.set(Result::MaxTries, why + ", no attempts left");
  return AuthResult::MaxTries;
}

// failmode = "recovery": the provider cannot be used, so the user may give
// a recovery code instead; nobody gets in without one.
AuthResult Session::outage(const std::string& detail) {
  tell_error(message("unavailable"));
  if (!c_.state->has_recovery_codes(c_.owner)) {
    c_.record.set(Result::Unavailable, detail + "; failmode=recovery, but " + c_.owner + " has no recovery code left (or the state "
                  "file cannot be read)");
    return AuthResult::AuthInfoUnavail;
  }
  for (;;) {
    // Never echoed, whatever echo_code says: a recovery code is no one-time code.
    auto answer = c_.conversation.ask(message("recovery_prompt"), false);
    if (!answer) {
      c_.record.set(Result::ConversationFailed, "no answer to the recovery code prompt");
      return AuthResult::ConvErr;
    }
    if (answer_ends_login(*answer, c_.password, c_.record)) {
      tell_error(message("failed"));
      return AuthResult::AuthErr;
    }
    const auto code = store::normalize_recovery_code(trim(answer->reveal()).substr(0, kMaxAnswer));
    const auto done = code ? on_recovery_code(*code, true) : refuse_locally();
    if (done) return *done;
  }
}

// failmode = "safe" applies only while no code was ever sent in this login,
// and never to a provider whose TLS identity failed verification.
// failmode = "recovery" never lets anyone in without a recovery code, so it
// applies at any point, the untrusted provider included.
AuthResult Session::unavailable(const PhaseResult& r) {
  Outage o{r.detail, std::nullopt, {}, r.remote};
  if (r.untrusted) {
    o.never_open = Result::UntrustedProvider;
    o.never_open_why = "TLS verification of the provider failed (certificate, host name or pin): refused whatever "
                       "failmode says, since an on-path attacker produces exactly this";
  }
  return unavailable(o);
}

AuthResult Session::unavailable(const Outage& o) {
  if (c_.config.failmode == config::FailMode::Recovery && c_.state != nullptr) return outage(o.detail);
  const bool safe = c_.config.failmode == config::FailMode::Safe;
  if (o.never_open) {
    c_.record.set(*o.never_open, o.detail + " - " + o.never_open_why);
  } else if (safe && !code_sent_ && c_.caller_can_signal && !o.remote) {
    c_.record.set(Result::Unavailable, LOG_WARNING,
                  o.detail + "; failmode=safe does not apply: whoever started this process (su, sudo) can stop it or "
                  "lower its limits and so cause this; here only a refused connection, an HTTP 5xx answer or a "
                  "directory's own answer lets a login through without a code");
  } else if (safe && !code_sent_) {
    c_.record.set(Result::FailOpen, "the code service is unavailable (" + o.detail + "); failmode=safe lets the login go through WITHOUT a code");
    return AuthResult::Ignore;
  } else {
    c_.record.set(Result::Unavailable, o.detail + (safe ? " (failmode=safe does not apply once a code was sent)" : ""));
  }
  tell_error(message("unavailable"));
  return AuthResult::AuthInfoUnavail;
}

}  // namespace

AuthResult unenrolled(const config::Config& cfg, Conversation& conversation, bool silent, LoginRecord& record,
                      const std::string& why, bool always_deny) {
  const bool allow = cfg.unenrolled == config::Unenrolled::Allow && !always_deny;
  record.set(Result::Unenrolled, allow ? LOG_INFO : LOG_NOTICE,
             why + (allow          ? "; unenrolled=allow"
                    : always_deny ? "; refused: a caller without a destination (destination_user = \"caller\")"
                                  : "; unenrolled=deny"));
  if (allow) return AuthResult::Ignore;
  if (!silent) conversation.error(cfg.messages.at("failed"));
  return AuthResult::AuthErr;
}

bool answer_ends_login(const Secret& answer, const Secret* password, LoginRecord& record) {
  if (is_incorrect_marker(answer.reveal())) {
    record.set(Result::SshdFakedAnswer,
               "the answer is OpenSSH's INCORRECT marker: sshd replaced what was typed, as it does for every "
               "keyboard-interactive answer of root unless PermitRootLogin is yes (and of a user it does not "
               "accept); nothing was verified. For root over sshd set PermitRootLogin yes with "
               "AuthenticationMethods publickey,keyboard-interactive, or keep root out of pam_otp's stack for sshd "
               "(pam-otp check warns)");
    return true;
  }
  if (password == nullptr || password->empty()) return false;
  if (answer.reveal() != password->reveal() && trim(answer.reveal()) != trim(password->reveal())) return false;
  record.set(Result::PasswordAsCode, "the answer to pam_otp's prompt was the password (PAM_AUTHTOK); nothing was sent to the provider. "
             "The application answers every prompt with the password: sshd's 'password' method does "
             "(use KbdInteractiveAuthentication yes and PasswordAuthentication no, or AuthenticationMethods "
             "keyboard-interactive / publickey,keyboard-interactive), and so do sudo's passprompt_override and "
             "other single-password front ends");
  return true;
}

// Rounds up without seconds + 59, which overflows for a config's huge retry_after.
long minutes_for(long seconds) { return seconds <= 60 ? 1 : seconds / 60 + (seconds % 60 != 0 ? 1 : 0); }

AuthResult run_session(SessionContext& context) { return Session(context).run(); }

AuthResult run_outage(SessionContext& context, const Outage& outage) { return Session(context).unavailable(outage); }

}  // namespace otp::flow
