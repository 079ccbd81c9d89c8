#include "base/toml_util.h"

#include <sstream>

#include "base/secret.h"

namespace otp::tomlu {

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

std::string file_of(const toml::node& n, std::string_view fallback) {
  const auto& path = n.source().path;
  return path ? *path : std::string(fallback);
}

std::optional<toml::table> parse(std::string_view text, const std::string& source, Problems& problems) {
  try {
    return toml::parse(text, std::string_view(source));
  } catch (const toml::parse_error& e) {
    problems.add(source, static_cast<int>(e.source().begin.line), "",
                 "TOML syntax error: " + std::string(e.description()));
    return std::nullopt;
  }
}

void merge_into(toml::table& base, toml::table&& overlay) {
  for (auto&& [key, node] : overlay) {
    auto* existing = base.get(key);
    if (existing != nullptr && existing->is_table() && node.is_table()) {
      merge_into(*existing->as_table(), std::move(*node.as_table()));
    } else {
      base.insert_or_assign(key, std::move(node));
    }
  }
}

Json::Value to_json(const toml::node& n) {
  if (const auto* s = n.as_string()) return Json::Value(s->get());
  if (const auto* i = n.as_integer()) return Json::Value(static_cast<Json::Int64>(i->get()));
  if (const auto* f = n.as_floating_point()) return Json::Value(f->get());
  if (const auto* b = n.as_boolean()) return Json::Value(b->get());
  if (const auto* a = n.as_array()) {
    Json::Value out(Json::arrayValue);
    for (const auto& item : *a) out.append(to_json(item));
    return out;
  }
  if (const auto* t = n.as_table()) {
    Json::Value out(Json::objectValue);
    for (const auto& [key, value] : *t) out[std::string(key.str())] = to_json(value);
    return out;
  }
  std::ostringstream text;  // date, time, date-time
  n.visit([&](const auto& v) { text << v; });
  return Json::Value(text.str());
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::array: return "array";
    case toml::node_type::table: return "table";
    default: return "date/time";
  }
}

void wipe_strings(toml::node& n) noexcept {
  if (auto* s = n.as_string()) {
    wipe(s->get());
  } else if (auto* a = n.as_array()) {
    for (auto& item : *a) wipe_strings(item);
  } else if (auto* t = n.as_table()) {
    for (auto&& [key, value] : *t) wipe_strings(value);
  }
}

void report(Problems& problems, const toml::node& n, std::string key, std::string message,
            std::string_view fallback_file) {
  problems.add(file_of(n, fallback_file), line_of(n), std::move(key), std::move(message));
}

void TomlReader::wrong_type(const toml::node& n, const std::string& path, std::string_view expected) {
  problem(n, path, "must be " + std::string(expected) + ", not " + type_name(n));
}

void TomlReader::problem(const toml::node& n, const std::string& path, std::string message) {
  report(problems_, n, path, std::move(message), file_);
}

std::optional<std::string> TomlReader::string(const toml::table& t, std::string_view key, const std::string& path) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (const auto* s = n->as_string()) return s->get();
  wrong_type(*n, path, "a string");
  return std::nullopt;
}

std::optional<std::int64_t> TomlReader::integer(const toml::table& t, std::string_view key, const std::string& path,
                                            std::int64_t min, std::int64_t max) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  const auto* i = n->as_integer();
  if (i == nullptr) {
    wrong_type(*n, path, "an integer");
    return std::nullopt;
  }
  if (i->get() < min || i->get() > max) {
    problem(*n, path, "must be from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return i->get();
}

std::optional<bool> TomlReader::boolean(const toml::table& t, std::string_view key, const std::string& path) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (const auto* b = n->as_boolean()) return b->get();
  wrong_type(*n, path, "true or false");
  return std::nullopt;
}

std::optional<std::vector<std::string>> TomlReader::strings(const toml::table& t, std::string_view key,
                                                        const std::string& path) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (const auto* s = n->as_string()) return std::vector<std::string>{s->get()};
  const auto* a = n->as_array();
  if (a == nullptr) {
    wrong_type(*n, path, "a string or an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : *a) {
    const auto* s = item.as_string();
    if (s == nullptr) {
      wrong_type(item, path, "an array of strings");
      return std::nullopt;
    }
    out.push_back(s->get());
  }
  return out;
}

const toml::table* TomlReader::table(const toml::table& t, std::string_view key, const std::string& path) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return nullptr;
  if (const auto* tbl = n->as_table()) return tbl;
  wrong_type(*n, path, "a table");
  return nullptr;
}

const toml::array* TomlReader::array(const toml::table& t, std::string_view key, const std::string& path) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return nullptr;
  if (const auto* a = n->as_array()) return a;
  wrong_type(*n, path, "an array");
  return nullptr;
}

}  // namespace otp::tomlu
