// Fuzzes the template language (provider/template.cc): the input is a
// template, checked, then expanded as text (plain and URL-encoded), as one
// value, and inside JSON templates (the input as a string in a fixed JSON
// template, and the input itself when it is a JSON document). The variables
// are fixed and nasty: typed values, an E.164 phone, and strings holding
// "${", quotes, backslashes, control characters and NULs.
//
// Only TemplateError may escape an expansion. Invariants:
//   - expand_value agrees with expand_text (same error or none; the value's
//     text is the text), and "${x?}" yielding nothing means empty text;
//   - a template without references expands to its literal text, encoded or
//     not, and a JSON template whose strings hold no "${" comes back as is;
//   - expanded JSON serialises to a document that parses back equal (values
//     are data: they cannot change a request's structure);
//   - percent_encode gives only [A-Za-z0-9._~%-] and decodes back.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "base/json.h"
#include "fuzz_check.h"
#include "provider/template.h"

namespace {

using otp::provider::Encoding;
using otp::provider::TemplateError;

class FixedVars final : public otp::provider::VariableSource {
 public:
  FixedVars() {
    values_["user"] = "alice";
    values_["phone"] = "+15551234567";
    values_["destination"] = "+447700900123";
    values_["email"] = "alice@example.com";
    values_["minutes"] = 5;
    values_["negative"] = -7;
    values_["big"] = Json::Value(std::numeric_limits<Json::UInt64>::max());
    values_["ratio"] = 1.5;
    values_["flag"] = true;
    values_["nothing"] = Json::Value();
    values_["empty"] = "";
    values_["dollar"] = "${user}$${phone}";
    values_["quote"] = "say \"hi\" 'there'";
    values_["backslash"] = "C:\\path\\";
    values_["nul"] = Json::Value(std::string("a\0b", 3));
    values_["control"] = "line\r\nbreak\ttab\x1b[2J";
    values_["utf8"] = "h\xc3\xa9llo \xe2\x82\xac";
    values_["bad_utf8"] = "\xff\xfe\xc3";
    values_["list"] = Json::Value(Json::arrayValue);
    values_["list"].append(1);
    values_["list"].append("x\"y");
    values_["object"] = Json::Value(Json::objectValue);
    values_["object"]["k"] = "${user}";
  }
  std::optional<Json::Value> lookup(std::string_view name) const override {
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  const std::map<std::string, Json::Value, std::less<>>& all() const { return values_; }

 private:
  std::map<std::string, Json::Value, std::less<>> values_;
};

const FixedVars& vars() {
  static const FixedVars v;
  return v;
}

bool url_safe(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '~' || c == '%' || c == '-'))
      return false;
  return true;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void check_percent_encode(std::string_view s) {
  const std::string encoded = otp::provider::percent_encode(s);
  CHECK(url_safe(encoded));
  CHECK(percent_decode(encoded) == s);
}

// An expansion's text, or nullopt when it threw TemplateError.
template <typename F>
auto attempt(F f) -> std::optional<decltype(f())> {
  try {
    return f();
  } catch (const TemplateError&) {
    return std::nullopt;
  }
}

bool has_dollar_brace(const Json::Value& tmpl) {
  std::vector<std::string> strings;
  otp::provider::collect_strings(tmpl, strings);
  for (const auto& s : strings)
    if (s.find("${") != std::string::npos) return true;
  return false;
}

void check_json(const Json::Value& tmpl) {
  const auto out = attempt([&] { return otp::provider::expand_json(tmpl, vars()); });
  if (!has_dollar_brace(tmpl)) CHECK(out && *out == tmpl);
  if (!out) return;
  Json::Value document(Json::arrayValue);  // json::parse wants an array or object at the root
  document.append(*out);
  const auto again = otp::json::parse(otp::json::to_string(document));
  CHECK(again && *again == document);
}

// The literal text of a template with no references: "$${" stands for "${".
std::string unescaped(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text.compare(i, 3, "$${") == 0) {
      out += "{";
      i += 2;
    }
  }
  return out;
}

void check_text(std::string_view text) {
  std::vector<std::string> names;
  const auto error = otp::provider::check_template(text, &names);
  const auto plain = attempt([&] { return otp::provider::expand_text(text, vars(), Encoding::Plain); });
  const auto url = attempt([&] { return otp::provider::expand_text(text, vars(), Encoding::Url); });
  const auto value = attempt([&] { return otp::provider::expand_value(text, vars()); });
  CHECK(plain.has_value() == url.has_value());
  CHECK(plain.has_value() == value.has_value());
  if (plain && value) CHECK(*value ? otp::json::as_text(**value) == *plain : plain->empty());
  if (!error && names.empty()) {
    CHECK(plain && *plain == unescaped(text));
    CHECK(url && *url == *plain);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  check_text(text);
  check_percent_encode(text);
  for (const auto& [name, value] : vars().all()) check_percent_encode(otp::json::as_text(value));

  // The input as a string in every position of a JSON template.
  Json::Value tmpl(Json::objectValue);
  tmpl["value"] = text;
  tmpl["list"].append(text);
  tmpl["list"].append("${missing?}");
  tmpl["list"].append(7);
  tmpl["nested"]["deeper"] = text;
  tmpl["fixed"] = "${user}";
  tmpl["flag"] = false;
  tmpl["nothing"] = Json::Value();
  check_json(tmpl);
  check_json(Json::Value(text));
  // The input as a JSON template of its own.
  if (const auto doc = otp::json::parse(text)) check_json(*doc);
  return 0;
}
