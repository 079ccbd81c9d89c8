// The built-in presets: provider descriptions written in the same language
// as an administrator's [provider.NAME] table (conf/providers/*.conf),
// compiled into the module as data.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace otp::provider {

struct PresetSource {
  std::string_view name;
  std::string_view text;
};

// Generated at build time from conf/providers/*.conf.
const std::vector<PresetSource>& builtin_presets();

std::optional<std::string_view> preset_text(std::string_view name);
std::string preset_list();  // "baanx, blockid, ..." for messages

// The keys an administrator may set with this preset (preset_keys.cc);
// empty for an unknown preset.
std::set<std::string, std::less<>> preset_keys(std::string_view preset);

}  // namespace otp::provider
