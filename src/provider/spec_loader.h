// Reading a provider description from TOML, with every problem located.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
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
std::vector<Rule> load_rules(const toml::array& array, tomlu::TomlReader& get, const std::string& path);

// The keys the language knows, as the loader checks them (pam_otp.conf(5)
// documents each; a test compares the two).
using KeySet = std::set<std::string, std::less<>>;
const KeySet& provider_table_keys();
const KeySet& step_keys();
const KeySet& rule_keys();
// Each auth scheme's parameters ("basic" -> user, password).
std::map<std::string, std::vector<std::string>> auth_scheme_params();

}  // namespace otp::provider
