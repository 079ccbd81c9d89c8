// Templates in provider descriptions: "${name}", with optional filters and
// shell-like modifiers. Values are inserted as data, never re-read as
// templates, and whole-value references keep their JSON type, so a user
// name holding quotes or "${x}" cannot change a request's structure.
//
//   ${name}            the value; an error when name is undefined
//   ${name?}           the value, or nothing (a JSON member is left out)
//   ${name:-text}      the value, or text when undefined or empty
//   ${name:+text}      text when name is defined and non-empty, else nothing
//   ${name|filter}     filters: string lower upper national country_code digits,
//                      slice(start[,end]) (Python's, by bytes)
//   $${                a literal "${"
#pragma once

#include <json/value.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret.h"

namespace otp::provider {

// Why a request cannot be built for this login: a template that does not
// expand, a value a header or a body cannot carry, an auth scheme that
// cannot sign. The client turns it into a config_error outcome.
class RequestBuildError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A template that does not parse or expand (an undefined variable, an
// unknown filter).
class TemplateError : public RequestBuildError {
 public:
  using RequestBuildError::RequestBuildError;
};

// Where template variables come from.
class VariableSource {
 public:
  virtual ~VariableSource() = default;
  // The value of a variable, or nullopt when it is not defined.
  virtual std::optional<Json::Value> lookup(std::string_view name) const = 0;
};

enum class Encoding { Plain, Url };

// nullopt when text is a valid template; otherwise the error. Appends the
// names it references to *names when given.
std::optional<std::string> check_template(std::string_view text, std::vector<std::string>* names = nullptr);

// Text expansion. With Encoding::Url every inserted value is percent-encoded,
// dots included, so that no value can form a "." or ".." path segment
// (literal text is not encoded). Throws TemplateError.
std::string expand_text(std::string_view tmpl, const VariableSource& vars, Encoding encoding = Encoding::Plain);
// The same for text that may hold a secret (a header, an auth parameter):
// built, and kept, in memory that is wiped.
Secret expand_secret(std::string_view tmpl, const VariableSource& vars, Encoding encoding = Encoding::Plain);

// Whole-value expansion: a template that is exactly one reference yields the
// value with its type; nullopt for "${x?}" with x undefined. Throws TemplateError.
std::optional<Json::Value> expand_value(std::string_view tmpl, const VariableSource& vars);

// Expands every string of a JSON template; members and elements that expand
// to nothing ("${x?}") are left out. Throws TemplateError.
Json::Value expand_json(const Json::Value& tmpl, const VariableSource& vars);

// Every template string inside a JSON template (object keys are literal).
void collect_strings(const Json::Value& tmpl, std::vector<std::string>& out);

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percent_encode(std::string_view s);

// Splits an E.164 number into its country calling code and national number
// ("+15551234567" -> "1", "5551234567"). nullopt when it is not E.164.
std::optional<std::pair<std::string, std::string>> split_e164(std::string_view phone);

}  // namespace otp::provider
