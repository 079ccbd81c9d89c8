// JSON conversions for the mock's data, all through jsoncpp so that nothing
// is ever assembled or parsed by hand.
#pragma once

#include <json/json.h>

#include <optional>
#include <string>
#include <vector>

#include "mock_types.h"

namespace otp::mock {

// Compact, one line, UTF-8 kept as is.
std::string to_text(const Json::Value& v);

// Strict parse (no comments, no trailing data, an object or array at the
// root); nullopt on any error.
std::optional<Json::Value> parse_json(const std::string& text);

// As parse_json(), but nullopt unless the root is an object.
std::optional<Json::Value> parse_object(const std::string& text);

Json::Value to_json(const MockSettings& s);
Json::Value to_json(const Fault& f);
Json::Value to_json(const Delivery& d);
Json::Value to_json(const RecordedRequest& r);

// Overwrites only the fields present in obj. Throws std::invalid_argument
// naming the first field that has the wrong type or an out-of-range value.
void apply_json(const Json::Value& obj, MockSettings& s);

// Fields absent from obj keep their defaults. Throws std::invalid_argument.
Fault fault_from_json(const Json::Value& obj);

// Throws std::invalid_argument if a value is out of range (e.g. code_length 0).
void validate(const MockSettings& s);

// Field readers for partial updates: each leaves `out` untouched when obj
// lacks the field and throws std::invalid_argument(name) when it has the
// wrong type or is out of range.
void read_int(const Json::Value& obj, const char* name, int& out, int min, int max);
void read_bool(const Json::Value& obj, const char* name, bool& out);
void read_string(const Json::Value& obj, const char* name, std::string& out);
void read_string_list(const Json::Value& obj, const char* name, std::vector<std::string>& out);

}  // namespace otp::mock
