#include "provider/rules.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "base/json.h"
#include "base/text.h"
#include "http/transport.h"

namespace otp::provider {
namespace {

std::optional<std::string> header_value(const Answer& answer, const std::string& name) {
  return answer.headers == nullptr ? std::nullopt : http::find_header(*answer.headers, name);
}

const Json::Value* field(const Answer& answer, const std::string& pointer) {
  return answer.json == nullptr ? nullptr : json::resolve(*answer.json, pointer);
}

bool any_equal(const Json::Value* v, const std::vector<Json::Value>& values) {
  return v != nullptr &&
         std::any_of(values.begin(), values.end(), [&](const Json::Value& x) { return json::equal(*v, x); });
}

bool test_json(const JsonTest& t, const Answer& answer) {
  const Json::Value* v = field(answer, t.pointer);
  switch (t.op) {
    case JsonTest::Op::Equals: return any_equal(v, t.values);
    case JsonTest::Op::NotEquals: return answer.json != nullptr && !any_equal(v, t.values);
    case JsonTest::Op::Contains: return v != nullptr && v->isString() && v->asString().find(t.text) != std::string::npos;
    case JsonTest::Op::Exists: return v != nullptr && !v->isNull();
    case JsonTest::Op::Missing: return v == nullptr || v->isNull();
  }
  return false;
}

bool test_status(const std::vector<StatusRange>& ranges, long status) {
  return ranges.empty() || std::any_of(ranges.begin(), ranges.end(), [&](const StatusRange& r) {
           return status >= r.low && status <= r.high;
         });
}

// The longest wait taken from a JSON number, as for a Retry-After header
// (nine digits, some 31 years): a provider's 1e300 or 2^64-1 must neither
// overflow a long nor throw (jsoncpp's asInt64 does past INT64_MAX).
constexpr long kMaxRetryAfter = 999999999;

std::optional<long> seconds_from(const Json::Value& v, std::chrono::system_clock::time_point now) {
  if (v.isIntegral() && !v.isBool()) {
    if (!v.isInt64()) return kMaxRetryAfter;  // above INT64_MAX
    return static_cast<long>(std::clamp<Json::Int64>(v.asInt64(), 0, kMaxRetryAfter));
  }
  if (v.isDouble()) {
    const double d = v.asDouble();
    if (!(d < kMaxRetryAfter)) return kMaxRetryAfter;
    return d <= 0 ? 0 : static_cast<long>(d + 0.999);
  }
  if (v.isString()) return parse_retry_after(v.asString(), now);
  return std::nullopt;
}

std::optional<long> retry_after_of(const Rule& rule, const Answer& answer,
                                   std::chrono::system_clock::time_point now) {
  switch (rule.retry_after.kind) {
    case RetryAfter::Kind::Seconds: return rule.retry_after.seconds;
    case RetryAfter::Kind::Pointer:
      if (const auto* v = field(answer, rule.retry_after.pointer); v != nullptr && !v->isNull())
        return seconds_from(*v, now);
      [[fallthrough]];  // the field is absent: the header may still say
    case RetryAfter::Kind::Header:
    case RetryAfter::Kind::Auto:
      if (auto h = header_value(answer, "retry-after")) return parse_retry_after(*h, now);
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

bool matches(const Rule& rule, const Answer& answer) {
  if (!test_status(rule.status, answer.status)) return false;
  for (const auto& t : rule.json)
    if (!test_json(t, answer)) return false;
  for (const auto& h : rule.headers) {
    const auto v = header_value(answer, h.name);
    if (!v || (h.value && *v != *h.value)) return false;
  }
  return true;
}

std::optional<Classification> classify(const std::vector<const std::vector<Rule>*>& lists, const Answer& answer,
                                       std::chrono::system_clock::time_point now) {
  for (const auto* list : lists) {
    for (const auto& rule : *list) {
      if (!matches(rule, answer)) continue;
      Classification c;
      c.outcome = rule.outcome;
      c.rule = &rule;
      c.show_reason = rule.show_message;
      if (!rule.message_pointer.empty())
        if (const auto* v = field(answer, rule.message_pointer); v != nullptr && !v->isNull())
          c.reason = shown_text(json::as_text(*v), 200);
      if (rule.outcome == Outcome::Locked || rule.outcome == Outcome::RateLimited)
        c.retry_after = retry_after_of(rule, answer, now);
      return c;
    }
  }
  return std::nullopt;
}

std::optional<long> parse_retry_after(const std::string& value, std::chrono::system_clock::time_point now) {
  const std::string v(trim(value));
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (v.size() > 9) return std::nullopt;
    return std::strtol(v.c_str(), nullptr, 10);
  }
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::time_t when = timegm(&tm);
  const std::time_t current = std::chrono::system_clock::to_time_t(now);
  return std::max<long>(0, static_cast<long>(when - current));
}

}  // namespace otp::provider
