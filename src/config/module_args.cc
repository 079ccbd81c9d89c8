#include "config/module_args.h"

#include <cstdio>

namespace otp::config {
namespace {

// A TOML basic string holding s exactly.
std::string toml_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::optional<toml::table> parse_override(const std::string& key, const std::string& value, const std::string& source) {
  // The selected provider is stored apart from the [provider.NAME] tables (see loader.cc).
  const std::string target = key == "provider" ? "\"@provider\"" : key;
  try {
    return toml::parse(target + " = " + value, std::string_view(source));
  } catch (const toml::parse_error&) {
  }
  try {
    return toml::parse(target + " = " + toml_quoted(value), std::string_view(source));
  } catch (const toml::parse_error&) {
    return std::nullopt;
  }
}

}  // namespace

ModuleArgs parse_module_args(const std::vector<std::string>& args, const std::string& default_config,
                             Problems& problems) {
  ModuleArgs out;
  out.config_path = default_config;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const std::string source = "module argument " + std::to_string(i + 1) + " (" + arg + ")";
    const auto eq = arg.find('=');
    if (arg == "debug") { out.debug = true; continue; }
    if (eq == std::string::npos || eq == 0) {
      problems.add(source, 0, "", "expected 'debug', 'config=PATH' or KEY=VALUE");
      continue;
    }
    const std::string key = arg.substr(0, eq);
    const std::string value = arg.substr(eq + 1);
    if (key == "config") {
      // Relative to the PAM application's working directory (under sudo, the
      // invoking user's) it could name any file: only absolute paths.
      if (value.empty() || value[0] != '/') problems.add(source, 0, "config", "must be an absolute path");
      else out.config_path = value;
      continue;
    }
    if (auto doc = parse_override(key, value, source)) out.overrides.push_back(std::move(*doc));
    else problems.add(source, 0, key, "cannot be read as KEY=VALUE");
  }
  return out;
}

}  // namespace otp::config
