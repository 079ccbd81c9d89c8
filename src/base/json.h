// jsoncpp helpers: strict parsing with limits, RFC 6901 pointers, typed
// comparison, and wiping values that held secrets.
#pragma once

#include <json/value.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/secret.h"

namespace otp::json {

// Strict parse (no comments, no trailing garbage, bounded nesting).
// nullopt when text is not one valid JSON document.
std::optional<Json::Value> parse(std::string_view text);

// Compact serialisation, no trailing newline.
std::string to_string(const Json::Value& v);
// The same, in memory that is wiped as it grows and when it is released
// (for request bodies that carry secrets).
Secret to_secret(const Json::Value& v);

// A string value's bytes without a copy ("" for other types), and the text
// of any value appended to out (strings as they are, others as JSON).
std::string_view view(const Json::Value& v);
void append_text(const Json::Value& v, SecureString& out);

// Wipes the value when the scope ends (a copy of a variable that may be secret).
class WipeOnExit {
 public:
  explicit WipeOnExit(Json::Value& v) : v_(v) {}
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;
  ~WipeOnExit();

 private:
  Json::Value& v_;
};

// Is every string in v, and every member name, valid UTF-8? jsoncpp writes
// other bytes as they are, which is not valid JSON.
bool all_utf8(const Json::Value& v);

// Is `pointer` a syntactically valid JSON Pointer ("" or "/a/b~1c")?
bool valid_pointer(std::string_view pointer);
// The value `pointer` designates in `doc`, or nullptr.
const Json::Value* resolve(const Json::Value& doc, std::string_view pointer);
// The same, where a "*" token stands for every element of an array (or
// member of an object): "/detail/multi_challenge/*/type" gives the array of
// every challenge's type. Without "*", the value as resolve() finds it.
// nullopt when nothing matches.
std::optional<Json::Value> resolve_all(const Json::Value& doc, std::string_view pointer);

// Equality that treats 5, 5u and 5.0 alike; otherwise types must match.
bool equal(const Json::Value& a, const Json::Value& b);

// A scalar as text: strings as-is, numbers and booleans in JSON form,
// null as "". Arrays and objects as compact JSON.
std::string as_text(const Json::Value& v);

// Overwrites every string held in v (recursively), then makes v null.
void wipe(Json::Value& v) noexcept;

}  // namespace otp::json
