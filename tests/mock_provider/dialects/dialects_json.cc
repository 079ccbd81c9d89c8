// Dialects <-> JSON for /mock/dialects: each dialect reads, shows and checks
// its own section (its DialectKind); this file walks the list.
#include <stdexcept>
#include <utility>

#include "dialects/dialect.h"
#include "dialects/dialects.h"
#include "dialects/settings_json.h"

namespace otp::mock {

Json::Value list_json(const std::vector<std::string>& items) {
  Json::Value v(Json::arrayValue);
  for (const auto& item : items) v.append(item);
  return v;
}

Json::Value map_json(const std::map<std::string, std::string>& m) {
  Json::Value v(Json::objectValue);
  for (const auto& [key, value] : m) v[key] = value;
  return v;
}

void read_string_map(const Json::Value& obj, const char* name, std::map<std::string, std::string>& out) {
  if (!obj.isMember(name)) return;
  if (!obj[name].isObject()) bad_field(name);
  std::map<std::string, std::string> next;
  for (const auto& key : obj[name].getMemberNames()) {
    if (!obj[name][key].isString()) bad_field(name);
    next[key] = obj[name][key].asString();
  }
  out = std::move(next);
}

namespace {

// Runs step, naming the section in what it throws: "twilio.max_fail".
template <typename Step>
void in_section(const DialectKind& kind, Step step) {
  try {
    step();
  } catch (const std::invalid_argument& e) {
    bad_field(std::string(kind.name) + "." + e.what());
  }
}

}  // namespace

void validate(const Dialects& d) {
  for (const DialectKind* kind : dialect_kinds()) in_section(*kind, [&] { kind->validate(d); });
}

Json::Value to_json(const Dialects& d) {
  Json::Value v(Json::objectValue);
  for (const DialectKind* kind : dialect_kinds()) v[kind->name] = kind->to_json(d);
  return v;
}

void apply_json(const Json::Value& obj, Dialects& d) {
  Dialects next = d;  // all or nothing
  for (const DialectKind* kind : dialect_kinds()) {
    if (!obj.isMember(kind->name)) continue;
    if (!obj[kind->name].isObject()) bad_field(kind->name);
    in_section(*kind, [&] { kind->apply(obj[kind->name], next); });
  }
  validate(next);
  d = std::move(next);
}

}  // namespace otp::mock
