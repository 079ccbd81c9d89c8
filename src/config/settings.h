// The top-level keys of pam_otp.conf: their types, limits and defaults.
#pragma once

#include <string_view>
#include <vector>

#include "base/toml_util.h"
#include "config/config.h"

namespace otp::config {

// Every top-level key the parser knows (for `pam-otp show` and the docs test).
std::vector<std::string_view> top_level_keys();

// The settings as `pam-otp show` prints them: every key with a value or a
// default, from the same table as apply_settings (secrets in it redacted).
toml::table shown_settings(const Config& cfg);

// Reads every known top-level key of doc into cfg; reports unknown keys,
// wrong types and bad values. Leaves "provider" to the caller.
void apply_settings(const toml::table& doc, Config& cfg, tomlu::TomlReader& get);

}  // namespace otp::config
