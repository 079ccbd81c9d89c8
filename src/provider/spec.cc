#include "provider/spec.h"

#include <algorithm>
#include <array>

#include "base/json.h"
#include "base/text.h"

namespace otp::provider {

// Every value, not only the preset's secret keys: a table's other keys may
// come from the secrets file too. (jsoncpp frees its strings with free().)
ProviderSpec::~ProviderSpec() {
  for (auto& [key, value] : vars) json::wipe(value);
  json::wipe(source);
}

bool is_builtin_variable(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kBuiltins = {
      "user", "service", "rhost", "channel", "provider_channel", "destination",
      "phone", "email", "code", "password", "provider"};
  for (auto b : kBuiltins)
    if (b == name) return true;
  return false;
}

bool is_overridable_builtin(std::string_view name) { return name == "user" || name == "phone" || name == "email"; }

const std::string& Auth::param(std::string_view name) const {
  static const std::string kEmpty;
  const auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

bool conditions_hold(const std::vector<Condition>& conditions, const VariableSource& vars) {
  for (const auto& c : conditions) {
    auto value = vars.lookup(c.name);
    if (!value) return false;
    const json::WipeOnExit wipe(*value);  // (a condition may look at a secret)
    if (c.pattern) {
      if (!c.pattern->matches(json::as_text(*value))) return false;
    } else if (std::none_of(c.any_of.begin(), c.any_of.end(), [&](const Json::Value& a) { return json::equal(*value, a); })) {
      return false;
    }
  }
  return true;
}

bool looks_secret(std::string_view key) {
  static constexpr std::array<std::string_view, 6> kMarks = {"secret", "token", "password", "key", "pass", "auth"};
  const std::string lower = to_lower(key);  // Api_Secret, X-API-Key
  for (auto mark : kMarks)
    if (lower.find(mark) != std::string::npos) return true;
  return false;
}

}  // namespace otp::provider
