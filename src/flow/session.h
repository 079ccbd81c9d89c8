// Steps 7-9 of the login (docs/design.md, "The login flow"): send a code,
// prompt for it, verify it, with attempts, resends and their cooldown,
// expiry, lockouts and failmode.
#pragma once

#include <optional>
#include <string>

#include "base/logger.h"
#include "config/config.h"
#include "flow/clock.h"
#include "flow/conversation.h"
#include "flow/local_state.h"
#include "flow/record.h"
#include "flow/result.h"
#include "provider/client.h"

namespace otp::flow {

struct SessionContext {
  const config::Config& config;
  provider::ProviderClient* client;  // nullptr: only an outage to decide (run_outage)
  provider::Variables& vars;
  Conversation& conversation;
  Clock& clock;
  Logger& log;
  bool silent = false;
  std::string destination;  // masked; may be empty (the provider knows it)
  LoginRecord& record;
  int attempts_used = 0;    // spent before the session (invalid menu choices)
  // The user's password (PAM_AUTHTOK, or asked for); nullptr when none. An
  // answer equal to it is never sent to the provider.
  const Secret* password = nullptr;
  LocalState* state = nullptr;  // nullptr: no local state (tests of the session alone)
  std::string owner;            // whose destination, send limit and recovery codes
  std::string rhost;
  std::string service;
  // Whoever started this process can stop it or lower its limits (su and
  // sudo: LoginRequest::caller_can_signal); failmode = "safe" then opens
  // only for outages they cannot cause.
  bool caller_can_signal = false;
};

AuthResult run_session(SessionContext& context);

// Why no code can be sent, as failmode needs to know it (docs/design.md,
// "Failmode").
struct Outage {
  std::string detail;  // what happened, for the log
  // Set when no failmode but recovery may let the login through (TLS
  // unverified: an on-path attacker's work; a directory with two entries
  // for one name): the result to record, and its words after the detail.
  std::optional<Result> never_open;
  std::string never_open_why;
  // Said by the network or the service on every address tried: nothing a
  // caller who can stop or limit this process can produce.
  bool remote = false;
};

// The outage before anything is sent (the directory that says where codes
// go cannot answer): failmode decides, as for a provider that cannot be
// reached. context.client may be nullptr.
AuthResult run_outage(SessionContext& context, const Outage& outage);

// A user who needs no code (not in the users file, no destination, or the
// provider says so): unenrolled = "allow" gives PAM_IGNORE, "deny" (or
// always_deny: a caller in caller mode) PAM_AUTH_ERR.
AuthResult unenrolled(const config::Config& cfg, Conversation& conversation, bool silent, LoginRecord& record,
                      const std::string& why, bool always_deny = false);

// Must an answer to one of our prompts end the login at once, unused? sshd
// replaces root's answers with its INCORRECT marker when PermitRootLogin is
// not yes, and its password method (and other single-password front ends)
// answers every prompt with the password. Sets the record (LOG_ERR, with
// the fix) when it must.
bool answer_ends_login(const Secret& answer, const Secret* password, LoginRecord& record);

// Minutes to show for a wait of `seconds` (rounded up, at least 1).
long minutes_for(long seconds);

}  // namespace otp::flow
