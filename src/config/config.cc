#include "config/config.h"

#include <cstdlib>

namespace otp::config {

provider::Limits limits(const Config& c) {
  using std::chrono::seconds;
  return {seconds(c.timeout), seconds(c.connect_timeout), seconds(c.deadline)};
}

std::string_view name_of(FailMode m) {
  switch (m) {
    case FailMode::Secure: return "secure";
    case FailMode::Safe: return "safe";
    case FailMode::Recovery: return "recovery";
  }
  return "?";
}

std::string_view name_of(Unenrolled u) {
  switch (u) {
    case Unenrolled::Deny: return "deny";
    case Unenrolled::Allow: return "allow";
  }
  return "?";
}

std::string_view name_of(RecoveryUse r) {
  switch (r) {
    case RecoveryUse::Off: return "off";
    case RecoveryUse::Outage: return "outage";
    case RecoveryUse::Always: return "always";
  }
  return "?";
}

std::string_view name_of(DestinationUser d) {
  switch (d) {
    case DestinationUser::Target: return "target";
    case DestinationUser::Caller: return "caller";
  }
  return "?";
}

namespace {

struct Unit {
  char letter;
  int seconds;
};
constexpr Unit kUnits[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
constexpr long kMaxWindow = 30L * 86400;  // the store keeps events 31 days

// Digits only, 1 to 6 of them.
std::optional<long> small_number(const std::string& text) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::strtol(text.c_str(), nullptr, 10);
}

}  // namespace

std::optional<RateLimit> parse_rate_limit(const std::string& text, std::string& why) {
  why = "must be COUNT/PERIOD, such as \"5/15m\" (s, m, h or d; at most 30d), not '" + text + "'";
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash + 2 > text.size()) return std::nullopt;
  const auto count = small_number(text.substr(0, slash));
  const char unit = text.back();
  const auto amount = small_number(text.substr(slash + 1, text.size() - slash - 2));
  if (!count || !amount || *count < 1 || *count > 10000 || *amount < 1) return std::nullopt;
  for (const auto& u : kUnits) {
    if (u.letter != unit) continue;
    if (*amount > kMaxWindow / u.seconds) return std::nullopt;  // no overflow where long has 32 bits
    const long window = *amount * u.seconds;
    return RateLimit{static_cast<int>(*count), static_cast<int>(window)};
  }
  return std::nullopt;
}

std::string rate_limit_text(const RateLimit& limit) {
  for (auto u = std::rbegin(kUnits); u != std::rend(kUnits); ++u)
    if (limit.window % u->seconds == 0)
      return std::to_string(limit.max) + "/" + std::to_string(limit.window / u->seconds) + u->letter;
  return std::to_string(limit.max) + "/" + std::to_string(limit.window) + "s";
}

}  // namespace otp::config
