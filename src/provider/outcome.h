// What a provider's answer means for the login.
#pragma once

#include <iosfwd>
#include <optional>
#include <string_view>
#include <vector>

namespace otp::provider {

enum class Outcome {
  Sent,          // a code is on its way
  Accepted,      // code verified
  NotRequired,   // at send: the provider needs no code from this user
  WrongCode,
  WrongOrExpired,  // the provider cannot tell a wrong code from an expired one
  Expired,
  Locked,
  Disabled,      // the provider disabled the user's token or device (an administrator's act)
  WrongPin,      // the provider refused the PIN sent to start the challenge; nothing sent
  RateLimited,
  UnknownUser,   // the provider rejects the user or the destination
  ConfigError,   // the provider rejects our credentials; or our description is wrong
  Retry,         // transient: try the next base_url
  Continue,      // go on with the next step of the phase
  Unavailable,   // not a rule outcome: unreachable, timeout, unclassified answer
};

std::optional<Outcome> parse_outcome(std::string_view name);
// The names a rule may use, in the table's order.
std::vector<std::string_view> rule_outcome_names();
std::string_view outcome_name(Outcome outcome);
std::ostream& operator<<(std::ostream& out, Outcome outcome);

}  // namespace otp::provider
