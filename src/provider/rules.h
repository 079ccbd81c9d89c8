// Outcome rules: ordered tests over an HTTP answer (status, JSON fields,
// headers) that say what it means. The first rule that matches wins; an
// answer no rule matches is never a success.
#pragma once

#include <json/value.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/transport.h"
#include "provider/outcome.h"

namespace otp::provider {

struct StatusRange {
  long low = 0;
  long high = 0;
};

struct JsonTest {
  enum class Op { Equals, NotEquals, Contains, Exists, Missing };
  Op op = Op::Equals;
  std::string pointer;
  std::vector<Json::Value> values;  // Equals: any of; NotEquals: none of
  std::string text;                 // Contains
};

struct HeaderTest {
  std::string name;                  // lower case
  std::optional<std::string> value;  // nullopt: the header must exist
};

// Where the wait before a retry comes from when the outcome is locked or
// rate_limited.
struct RetryAfter {
  enum class Kind { Auto, Seconds, Header, Pointer };
  Kind kind = Kind::Auto;  // Auto: the Retry-After header when present
  long seconds = 0;
  std::string pointer;
};

struct Rule {
  std::vector<StatusRange> status;  // empty: any status
  std::vector<JsonTest> json;
  std::vector<HeaderTest> headers;
  Outcome outcome = Outcome::Unavailable;
  std::string message_pointer;  // the provider's reason, shown or logged
  bool show_message = true;     // false: logged only (it would tell an attacker too much)
  std::string hint;             // the administrator's explanation, for the log
  RetryAfter retry_after;
  std::string where;            // "file:line", for debug logs
};

// The parts of an answer the rules look at.
struct Answer {
  long status = 0;
  const http::Headers* headers = nullptr;
  const Json::Value* json = nullptr;  // nullptr when the body is empty or not JSON
};

struct Classification {
  Outcome outcome = Outcome::Unavailable;
  std::string reason;                // sanitized provider text, may be empty
  bool show_reason = true;           // the rule lets the user see it
  std::optional<long> retry_after;   // seconds
  const Rule* rule = nullptr;
};

bool matches(const Rule& rule, const Answer& answer);

// Tries each list in order, each rule in order.
std::optional<Classification> classify(const std::vector<const std::vector<Rule>*>& lists, const Answer& answer,
                                       std::chrono::system_clock::time_point now);

// "120" -> 120; "Wed, 21 Oct 2015 07:28:00 GMT" -> seconds from now (>= 0).
std::optional<long> parse_retry_after(const std::string& value, std::chrono::system_clock::time_point now);

}  // namespace otp::provider
