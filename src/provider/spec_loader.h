// Reading a provider description from TOML, with every problem located.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/problem.h"
#include "base/toml_util.h"
#include "provider/spec.h"

namespace otp::provider {

// Builds the description of [provider.NAME]. When the table names a preset,
// the preset's own table is loaded first and the administrator's keys are
// merged over it. nullopt when there were problems (all of them reported).
std::optional<ProviderSpec> load_provider(const std::string& name, toml::table&& table, Problems& problems,
                                          const std::string& fallback_file);

// One rule list ("rules = [ {...}, ... ]"); path is the dotted key for messages.
std::vector<Rule> load_rules(const toml::array& array, tomlu::Getter& get, const std::string& path);

}  // namespace otp::provider
