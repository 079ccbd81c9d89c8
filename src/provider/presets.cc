#include "provider/presets.h"

namespace otp::provider {

std::optional<std::string_view> preset_text(std::string_view name) {
  for (const auto& p : builtin_presets())
    if (p.name == name) return p.text;
  return std::nullopt;
}

std::string preset_list() {
  std::string out;
  for (const auto& p : builtin_presets()) out += (out.empty() ? "" : ", ") + std::string(p.name);
  return out.empty() ? "none" : out;
}

}  // namespace otp::provider
