#include "config/loader.h"

#include "base/text.h"
#include "base/toml_util.h"
#include "config/module_args.h"
#include "config/safe_file.h"
#include "config/settings.h"
#include "base/json.h"
#include "provider/jwt.h"
#include "provider/spec_loader.h"
#include "provider/variables.h"

namespace otp::config {
namespace {

constexpr char kSelectionKey[] = "@provider";

// The documented form is `provider = "corp"` beside `[provider.corp]`, which
// TOML forbids (a key cannot be both a string and a table). Before the first table header,
// a line `provider = ...` is read as the key "@provider" instead. The caller
// checks the rewrite landed on a real top-level key and otherwise parses the
// original text, so a line inside a multi-line string is never changed.
std::optional<std::string> rename_selection(std::string_view text, int& line_number) {
  std::size_t start = 0;
  for (int line = 1; start < text.size(); ++line) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view content = trim(text.substr(start, end - start));
    if (!content.empty() && content[0] == '[') return std::nullopt;
    if (content.rfind("provider", 0) == 0 && trim(content.substr(8)).rfind('=', 0) == 0) {
      const std::size_t at = text.find("provider", start);
      line_number = line;
      return std::string(text.substr(0, at)) + "\"" + kSelectionKey + "\"" + std::string(text.substr(at + 8));
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<toml::table> parse_config(std::string_view text, const std::string& path, Problems& problems) {
  int line = 0;
  if (auto renamed = rename_selection(text, line)) {
    Problems ignored;
    auto doc = tomlu::parse(*renamed, path, ignored);
    const toml::node* sel = doc ? doc->get(kSelectionKey) : nullptr;
    if (sel != nullptr && tomlu::line_of(*sel) == line) return doc;
  }
  return tomlu::parse(text, path, problems);
}

std::optional<toml::table> read_toml(const std::string& path, Problems& problems, std::optional<SafeFile>& file) {
  file = read_safe_file(path, problems);
  if (!file) return std::nullopt;
  return parse_config(file->text.reveal(), path, problems);
}

// Deep-merges the secrets file, when one is named, over doc.
void merge_secrets(toml::table& doc, const toml::table& args_doc, const std::string& config_path,
                   std::optional<SafeFile>& secrets_file, Problems& problems) {
  tomlu::TomlReader get(problems, config_path);
  auto path = get.string(args_doc, "secrets_file", "secrets_file");
  if (!path) path = get.string(doc, "secrets_file", "secrets_file");
  if (!path || path->empty()) return;
  if ((*path)[0] != '/') return;  // apply_settings reports it; never read relative to the application's cwd
  auto secrets = read_toml(*path, problems, secrets_file);
  if (!secrets) return;
  if (const auto* n = secrets->get("secrets_file"))
    tomlu::report(problems, *n, "secrets_file", "a secrets file cannot name another secrets file");
  tomlu::merge_into(doc, std::move(*secrets));
}

// Which [provider.NAME] table to use: `provider = "NAME"`, or the only one.
std::optional<std::string> selected_provider(const toml::table& doc, tomlu::TomlReader& get) {
  const auto* tables = doc.get("provider") ? doc.get("provider")->as_table() : nullptr;
  const auto chosen = get.string(doc, kSelectionKey, "provider");
  if (doc.get("provider") != nullptr && tables == nullptr) {
    get.wrong_type(*doc.get("provider"), "provider", "the name of a [provider.NAME] table");
    return std::nullopt;
  }
  if (tables == nullptr || tables->empty()) {
    get.problems().add(get.file(), 0, "provider", "is required: describe the provider in a [provider.NAME] table");
    return std::nullopt;
  }
  if (chosen) {
    if (tables->get(*chosen) != nullptr) return chosen;
    std::string names;
    for (const auto& [key, value] : *tables) names += (names.empty() ? "" : ", ") + std::string(key.str());
    get.problem(*doc.get(kSelectionKey), "provider", "there is no [provider." + *chosen + "] table (defined: " + names + ")");
    return std::nullopt;
  }
  if (tables->size() == 1) return std::string(tables->begin()->first.str());
  get.problem(*tables, "provider", "several [provider.NAME] tables: choose one with provider = \"NAME\"");
  return std::nullopt;
}

// The keys that sign a provider's session tokens (validate_jwt's keys_file)
// are read here, with the config, so that an answer can never bring its own
// (docs/design.md, "The provider language"). keys_file may use only the
// provider table's keys; an empty one is an error when the check applies.
void load_session_keys(Config& cfg, const std::string& where, int line, Problems& problems) {
  const std::string key = "provider." + cfg.provider_name + ".validate_jwt.keys_file";
  const provider::Variables vars(cfg.provider);  // the provider table's keys alone
  for (auto& step : cfg.provider.verify) {
    if (!step.jwt.enabled()) continue;
    bool applies = true;  // unless its condition is known to be false
    std::string path;
    try {
      applies = provider::conditions_hold(step.jwt_when, vars);
    } catch (const provider::RequestBuildError&) {
    }
    try {
      path = provider::expand_text(step.jwt.keys_file, vars);
    } catch (const provider::RequestBuildError& e) {
      problems.add(where, line, key, std::string("may use only the provider table's keys: ") + e.what());
      continue;
    }
    if (path.empty()) {
      if (applies)
        problems.add(where, line, key, "session tokens are checked, but no key file is given (the descope preset's "
                                       "session_keys: a JWKS file, see pam_otp.conf(5))");
      continue;
    }
    auto file = read_safe_file(path, problems);
    if (!file) continue;
    auto keys = json::parse(file->text.reveal());
    const auto why = keys ? provider::jwks_problem(*keys) : std::optional<std::string>("it is not JSON");
    if (why) problems.add(path, 0, "", "not a key set (JWKS) for session tokens: " + *why);
    else step.jwt.keys = std::move(*keys);
  }
}

void load_provider_into(toml::table& doc, Config& cfg, tomlu::TomlReader& get, Problems& problems) {
  const auto name = selected_provider(doc, get);
  if (!name) return;
  auto* table = doc.get("provider")->as_table()->get(*name);
  if (!table->is_table()) {
    get.wrong_type(*table, "provider." + *name, "a table");
    return;
  }
  cfg.provider_name = *name;
  const std::string where = tomlu::file_of(*table, get.file());
  const int line = tomlu::line_of(*table);
  if (auto spec = provider::load_provider(*name, std::move(*table->as_table()), problems, cfg.path)) {
    cfg.provider = std::move(*spec);
    load_session_keys(cfg, where, line, problems);
  }
}

}  // namespace

std::string default_config_path() { return PAM_OTP_DEFAULT_CONFIG; }

std::unique_ptr<Loaded> load(const std::vector<std::string>& module_args, Problems& problems) {
  ModuleArgs args = parse_module_args(module_args, default_config_path(), problems);
  std::optional<SafeFile> config_file, secrets_file;
  auto doc = read_toml(args.config_path, problems, config_file);
  if (!doc) return nullptr;
  toml::table args_doc;
  for (auto& o : args.overrides) tomlu::merge_into(args_doc, std::move(o));
  merge_secrets(*doc, args_doc, args.config_path, secrets_file, problems);
  tomlu::merge_into(*doc, std::move(args_doc));

  auto loaded = std::make_unique<Loaded>();
  Config& cfg = loaded->config;
  cfg.path = args.config_path;
  tomlu::TomlReader get(problems, cfg.path);
  apply_settings(*doc, cfg, get);
  cfg.debug = cfg.debug || args.debug;
  check_secret_mode(*config_file, cfg.secrets_group, problems);
  if (secrets_file) check_secret_mode(*secrets_file, cfg.secrets_group, problems);
  load_provider_into(*doc, cfg, get, problems);
  if (cfg.channel != "ask" && !cfg.provider_name.empty() && !cfg.provider.supports_channel(cfg.channel)) {
    const auto at = cfg.origin.find("channel");
    problems.add(at != cfg.origin.end() ? at->second.first : cfg.path, at != cfg.origin.end() ? at->second.second : 0,
                 "channel", "provider '" + cfg.provider_name + "' has no channel '" + cfg.channel + "'");
  }
  tomlu::wipe_strings(*doc);

  if (auto users = read_safe_file(cfg.users_file, problems))
    loaded->users = UsersFile::parse(users->text.reveal(), cfg.users_file, problems);
  if (problems.has_errors()) return nullptr;
  return loaded;
}

}  // namespace otp::config
