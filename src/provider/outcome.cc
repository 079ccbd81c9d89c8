#include "provider/outcome.h"

#include <array>
#include <ostream>
#include <utility>

namespace otp::provider {
namespace {

constexpr std::array<std::pair<Outcome, std::string_view>, 15> kNames = {{
    {Outcome::Sent, "sent"},
    {Outcome::Accepted, "accepted"},
    {Outcome::NotRequired, "not_required"},
    {Outcome::WrongCode, "wrong_code"},
    {Outcome::WrongOrExpired, "wrong_or_expired"},
    {Outcome::Expired, "expired"},
    {Outcome::Locked, "locked"},
    {Outcome::Disabled, "disabled"},
    {Outcome::WrongPin, "wrong_pin"},
    {Outcome::RateLimited, "rate_limited"},
    {Outcome::UnknownUser, "unknown_user"},
    {Outcome::ConfigError, "config_error"},
    {Outcome::Retry, "retry"},
    {Outcome::Continue, "continue"},
    {Outcome::Unavailable, "unavailable"},
}};

}  // namespace

std::optional<Outcome> parse_outcome(std::string_view name) {
  for (const auto& [outcome, text] : kNames)
    if (text == name && outcome != Outcome::Unavailable) return outcome;
  return std::nullopt;
}

std::vector<std::string_view> rule_outcome_names() {
  std::vector<std::string_view> names;
  for (const auto& [outcome, text] : kNames)
    if (outcome != Outcome::Unavailable) names.push_back(text);
  return names;
}

std::string_view outcome_name(Outcome outcome) {
  for (const auto& [o, text] : kNames)
    if (o == outcome) return text;
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, Outcome outcome) { return out << outcome_name(outcome); }

}  // namespace otp::provider
