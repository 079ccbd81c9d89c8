#include "provider/spec.h"

#include <array>

#include "base/json.h"

namespace otp::provider {

ProviderSpec::~ProviderSpec() {
  for (const auto& key : secret_vars)
    if (auto it = vars.find(key); it != vars.end()) json::wipe(it->second);
}

bool is_builtin_variable(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kBuiltins = {
      "user", "service", "rhost", "channel", "provider_channel", "destination",
      "phone", "email", "code", "password", "provider"};
  for (auto b : kBuiltins)
    if (b == name) return true;
  return false;
}

bool looks_secret(std::string_view key) {
  static constexpr std::array<std::string_view, 6> kMarks = {"secret", "token", "password", "key", "pass", "auth"};
  for (auto mark : kMarks)
    if (key.find(mark) != std::string_view::npos) return true;
  return false;
}

}  // namespace otp::provider
