// The keys an administrator may set in a table that uses a preset, read
// from the preset's own description: what it requires, what it defines
// (with defaults), and the names its templates and conditions use that
// nothing else provides. Shown when a key is misspelled; pam_otp.conf(5)
// documents each (a test compares the two).
#include "provider/presets.h"

#include "base/toml_util.h"
#include "provider/spec.h"
#include "provider/spec_loader.h"
#include "provider/template.h"

namespace otp::provider {
namespace {

struct Names {
  KeySet used, provided;
};

void collect(const toml::node& node, Names& names) {
  if (const auto* s = node.as_string()) {
    std::vector<std::string> found;
    if (!check_template(s->get(), &found)) names.used.insert(found.begin(), found.end());
  } else if (const auto* a = node.as_array()) {
    for (const auto& item : *a) collect(item, names);
  } else if (const auto* t = node.as_table()) {
    for (const auto& [key, value] : *t) {
      const std::string_view k = key.str();
      if (k == "warn_if_literal") continue;  // advice texts, not templates
      // Names a step saves from an answer, or a choice computes.
      if (k == "save" || k == "choose")
        if (const auto* inner = value.as_table())
          for (const auto& [name, unused] : *inner) names.provided.emplace(name.str());
      // Conditions name the variables they test.
      if (k == "when")
        if (const auto* inner = value.as_table())
          for (const auto& [name, unused] : *inner) names.used.emplace(name.str());
      collect(value, names);
    }
  }
}

}  // namespace

KeySet preset_keys(std::string_view preset) {
  KeySet keys;
  const auto text = preset_text(preset);
  if (!text) return keys;
  Problems ignored;
  const auto table = tomlu::parse(*text, "preset " + std::string(preset), ignored);
  if (!table) return keys;
  keys.insert("base_url");
  if (const auto* required = table->get_as<toml::array>("required"))
    for (const auto& item : *required)
      if (const auto* s = item.as_string()) keys.insert(s->get());
  for (const auto& [key, value] : *table)
    if (!provider_table_keys().count(key.str())) keys.emplace(key.str());  // defined, with a default
  Names names;
  collect(*table, names);
  for (const auto& name : names.used)
    if (!names.provided.count(name) && !is_builtin_variable(name)) keys.insert(name);
  return keys;
}

}  // namespace otp::provider
