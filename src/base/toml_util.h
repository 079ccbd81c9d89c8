// Helpers over toml++ shared by the config loader and the provider loader.
#pragma once

#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/problem.h"
#include "base/toml.h"

namespace otp::tomlu {

// Where a node came from, for problem messages.
int line_of(const toml::node& n);
std::string file_of(const toml::node& n, std::string_view fallback = {});

// Parses a document; on a syntax error adds a problem with file and line.
std::optional<toml::table> parse(std::string_view text, const std::string& source, Problems& problems);

// Deep-merges overlay into base: tables merge key by key, anything else
// replaces. Nodes are moved, so they keep their file and line.
void merge_into(toml::table& base, toml::table&& overlay);

// TOML -> JSON with types kept (integers stay integers, booleans booleans).
// Dates and times become their TOML text.
Json::Value to_json(const toml::node& n);

// "string", "integer", "table", ... for messages.
std::string type_name(const toml::node& n);

// Overwrites every string value in the tree (they may hold secrets).
void wipe_strings(toml::node& n) noexcept;

// Adds "problem at this node" with file and line taken from the node.
void report(Problems& problems, const toml::node& n, std::string key, std::string message,
            std::string_view fallback_file = {});

// Reads a TOML table's keys with their types, and collects the problems it
// meets (a wrong type, or any the caller reports through problem()) naming
// `path`, the dotted key, and the line. nullopt when absent or of the wrong type.
class TomlReader {
 public:
  TomlReader(Problems& problems, std::string fallback_file) : problems_(problems), file_(std::move(fallback_file)) {}

  std::optional<std::string> string(const toml::table& t, std::string_view key, const std::string& path);
  std::optional<std::int64_t> integer(const toml::table& t, std::string_view key, const std::string& path,
                                      std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(const toml::table& t, std::string_view key, const std::string& path);
  // A string or an array of strings.
  std::optional<std::vector<std::string>> strings(const toml::table& t, std::string_view key, const std::string& path);
  const toml::table* table(const toml::table& t, std::string_view key, const std::string& path);
  const toml::array* array(const toml::table& t, std::string_view key, const std::string& path);

  void wrong_type(const toml::node& n, const std::string& path, std::string_view expected);
  void problem(const toml::node& n, const std::string& path, std::string message);
  Problems& problems() { return problems_; }
  const std::string& file() const { return file_; }

 private:
  Problems& problems_;
  std::string file_;
};

}  // namespace otp::tomlu
