// Readers and writers a dialect's settings use for /mock/dialects, beside
// mock_json.h's field readers. Every reader throws
// std::invalid_argument(field name) on a wrong type and leaves `out`
// untouched when the field is absent.
#pragma once

#include <json/json.h>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace otp::mock {

[[noreturn]] inline void bad_field(const std::string& field) { throw std::invalid_argument(field); }
inline void require_field(bool ok, const char* field) {
  if (!ok) bad_field(field);
}

Json::Value list_json(const std::vector<std::string>& items);
Json::Value map_json(const std::map<std::string, std::string>& m);

// An object of strings; replaces `out` whole.
void read_string_map(const Json::Value& obj, const char* name, std::map<std::string, std::string>& out);

// An object of objects, each read by `read` into a fresh T; replaces `out` whole.
template <typename T, typename Read>
void read_map(const Json::Value& obj, const char* name, std::map<std::string, T>& out, Read read) {
  if (!obj.isMember(name)) return;
  if (!obj[name].isObject()) bad_field(name);
  std::map<std::string, T> next;
  for (const auto& key : obj[name].getMemberNames()) {
    if (!obj[name][key].isObject()) bad_field(name);
    read(obj[name][key], next[key]);
  }
  out = std::move(next);
}

}  // namespace otp::mock
