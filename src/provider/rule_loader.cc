// The rule part of the provider language:
//   { status = 429, json = { "/code" = [60202, 60203] }, outcome = "locked",
//     message = "/message", retry_after = "header" }
#include <set>

#include "base/json.h"
#include "base/text.h"
#include "provider/spec_loader.h"

namespace otp::provider {
namespace {

const KeySet kRuleKeys = {
    "status", "json", "json_not", "json_contains", "json_exists", "json_missing",
    "header", "header_exists", "outcome", "message", "show_message", "hint", "retry_after"};

std::optional<StatusRange> status_range(const toml::node& n) {
  if (const auto* i = n.as_integer()) {
    if (i->get() < 100 || i->get() > 599) return std::nullopt;
    return StatusRange{static_cast<long>(i->get()), static_cast<long>(i->get())};
  }
  const auto* s = n.as_string();
  if (s == nullptr) return std::nullopt;
  const std::string text = to_lower(s->get());
  if (text.size() == 3 && text[0] >= '1' && text[0] <= '5' && text.substr(1) == "xx") {
    const long base = (text[0] - '0') * 100;
    return StatusRange{base, base + 99};
  }
  return std::nullopt;
}

void load_status(const toml::node& n, Rule& rule, tomlu::TomlReader& get, const std::string& path) {
  auto add = [&](const toml::node& item) {
    if (auto r = status_range(item)) rule.status.push_back(*r);
    else get.problem(item, path, "must be an HTTP status (100-599), a class such as \"5xx\", or an array of them");
  };
  if (const auto* a = n.as_array()) for (const auto& item : *a) add(item);
  else add(n);
}

bool check_pointer(const toml::node& n, std::string_view pointer, tomlu::TomlReader& get, const std::string& path) {
  if (json::valid_pointer(pointer) && !pointer.empty()) return true;
  get.problem(n, path, "'" + std::string(pointer) + "' is not a JSON Pointer (it must start with '/')");
  return false;
}

// json = { "/a" = 1 } and json_not = { "/a" = [1, 2] }: the value, or any of a list.
void load_json_values(const toml::table& t, JsonTest::Op op, Rule& rule, tomlu::TomlReader& get, const std::string& path) {
  for (const auto& [key, value] : t) {
    if (!check_pointer(value, key.str(), get, path)) continue;
    JsonTest test{op, std::string(key.str()), {}, {}};
    if (const auto* a = value.as_array()) for (const auto& item : *a) test.values.push_back(tomlu::to_json(item));
    else test.values.push_back(tomlu::to_json(value));
    rule.json.push_back(std::move(test));
  }
}

void load_json_tests(const toml::table& t, Rule& rule, tomlu::TomlReader& get, const std::string& path) {
  if (const auto* eq = get.table(t, "json", path + ".json")) load_json_values(*eq, JsonTest::Op::Equals, rule, get, path + ".json");
  if (const auto* ne = get.table(t, "json_not", path + ".json_not")) load_json_values(*ne, JsonTest::Op::NotEquals, rule, get, path + ".json_not");
  if (const auto* c = get.table(t, "json_contains", path + ".json_contains")) {
    for (const auto& [key, value] : *c) {
      if (!check_pointer(value, key.str(), get, path + ".json_contains")) continue;
      if (const auto* s = value.as_string()) rule.json.push_back({JsonTest::Op::Contains, std::string(key.str()), {}, s->get()});
      else get.wrong_type(value, path + ".json_contains", "a string");
    }
  }
  for (auto [key, op] : {std::pair{"json_exists", JsonTest::Op::Exists}, std::pair{"json_missing", JsonTest::Op::Missing}}) {
    const auto pointers = get.strings(t, key, path + "." + key);
    if (!pointers) continue;
    for (const auto& p : *pointers)
      if (check_pointer(*t.get(key), p, get, path + "." + key)) rule.json.push_back({op, p, {}, {}});
  }
}

void load_header_tests(const toml::table& t, Rule& rule, tomlu::TomlReader& get, const std::string& path) {
  if (const auto* h = get.table(t, "header", path + ".header")) {
    for (const auto& [key, value] : *h) {
      if (const auto* s = value.as_string()) rule.headers.push_back({to_lower(key.str()), s->get()});
      else get.wrong_type(value, path + ".header", "a string");
    }
  }
  if (auto names = get.strings(t, "header_exists", path + ".header_exists"))
    for (const auto& name : *names) rule.headers.push_back({to_lower(name), std::nullopt});
}

void load_retry_after(const toml::node& n, Rule& rule, tomlu::TomlReader& get, const std::string& path) {
  if (const auto* i = n.as_integer(); i != nullptr && i->get() >= 0) {
    rule.retry_after = {RetryAfter::Kind::Seconds, static_cast<long>(i->get()), {}};
  } else if (const auto* s = n.as_string(); s != nullptr && s->get() == "header") {
    rule.retry_after.kind = RetryAfter::Kind::Header;
  } else if (s != nullptr && check_pointer(n, s->get(), get, path)) {
    rule.retry_after = {RetryAfter::Kind::Pointer, 0, s->get()};
  } else if (s == nullptr) {
    get.problem(n, path, "must be a number of seconds, \"header\" (Retry-After) or a JSON Pointer");
  }
}

Rule load_rule(const toml::table& t, tomlu::TomlReader& get, const std::string& path) {
  Rule rule;
  rule.where = tomlu::file_of(t, get.file()) + ":" + std::to_string(tomlu::line_of(t));
  for (const auto& [key, value] : t)
    if (!kRuleKeys.count(key.str())) get.problem(value, path + "." + std::string(key.str()), "unknown rule key");
  if (const auto* status = t.get("status")) load_status(*status, rule, get, path + ".status");
  load_json_tests(t, rule, get, path);
  load_header_tests(t, rule, get, path);
  const auto outcome = get.string(t, "outcome", path + ".outcome");
  if (!outcome) {
    if (t.get("outcome") == nullptr) get.problem(t, path, "a rule needs an outcome");
  } else if (auto o = parse_outcome(*outcome)) {
    rule.outcome = *o;
  } else {
    std::string known;
    for (const auto& name : rule_outcome_names()) known += (known.empty() ? "" : ", ") + std::string(name);
    get.problem(*t.get("outcome"), path + ".outcome", "unknown outcome '" + *outcome + "' (" + known + ")");
  }
  if (auto message = get.string(t, "message", path + ".message"))
    if (check_pointer(*t.get("message"), *message, get, path + ".message")) rule.message_pointer = *message;
  rule.show_message = get.boolean(t, "show_message", path + ".show_message").value_or(true);
  rule.hint = get.string(t, "hint", path + ".hint").value_or("");
  if (const auto* ra = t.get("retry_after")) load_retry_after(*ra, rule, get, path + ".retry_after");
  return rule;
}

}  // namespace

std::vector<Rule> load_rules(const toml::array& array, tomlu::TomlReader& get, const std::string& path) {
  std::vector<Rule> rules;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    if (const auto* t = array[i].as_table()) rules.push_back(load_rule(*t, get, item_path));
    else get.wrong_type(array[i], item_path, "a table");
  }
  return rules;
}

const KeySet& rule_keys() { return kRuleKeys; }

}  // namespace otp::provider
