// The LDAP search filter for one user, from the configured template
// ("(&(objectClass=person)(uid=${user}))"): the user's name goes in as an
// assertion value escaped as RFC 4515 says, so that no name (with '*',
// '(', ')', '\' or NUL) changes the filter's shape. Plain text, no libldap:
// the configuration checks templates with it. docs/design.md,
// "Destinations from the directory".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otp::directory {

// `value` with every byte that could end or change an assertion written
// as \XX (two lower-case hex digits): the five RFC 4515 requires (NUL,
// '(', ')', '*', '\') and, to keep a filter printable ASCII in logs, every
// byte below 0x20 or above 0x7e (RFC 4515 allows any byte escaped).
std::string escape_filter_value(std::string_view value);

// A template checked once: the text around each ${user}.
class FilterTemplate {
 public:
  // nullopt, and why in `problem`, unless `text` is one parenthesised
  // filter (balanced, escapes well formed) naming ${user} at least once and
  // no other ${...}.
  static std::optional<FilterTemplate> parse(std::string_view text, std::string* problem);

  // The filter for `user`, escaped.
  std::string expand(std::string_view user) const;

 private:
  std::vector<std::string> parts_;  // one more than the ${user}s
};

}  // namespace otp::directory
