// SPEC §3 steps 7-9: send a code, prompt for it, verify it, with attempts,
// resends and their cooldown, expiry, lockouts and failmode.
#pragma once

#include <string>

#include "base/logger.h"
#include "config/config.h"
#include "flow/clock.h"
#include "flow/conversation.h"
#include "flow/record.h"
#include "flow/result.h"
#include "provider/client.h"

namespace otp::flow {

struct SessionContext {
  const config::Config& config;
  provider::ProviderClient& client;
  provider::Variables& vars;
  Conversation& conversation;
  Clock& clock;
  Logger& log;
  bool silent = false;
  std::string destination;  // full, for masking; may be empty (provider knows it)
  LoginRecord& record;
  int attempts_used = 0;    // spent before the session (invalid menu choices)
};

AuthResult run_session(SessionContext& context);

// Minutes to show for a wait of `seconds` (rounded up, at least 1).
long minutes_for(long seconds);

}  // namespace otp::flow
