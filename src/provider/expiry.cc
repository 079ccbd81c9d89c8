#include "provider/expiry.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "base/json.h"
#include "base/text.h"

namespace otp::provider {
namespace {

constexpr double kQuarterHour = 900;
// Below this the reading is more likely a validity of 15 minutes or more
// cut short than a real one: the code is then treated as of unknown validity.
constexpr double kShortest = 30;

}  // namespace

std::optional<double> parse_zoneless_time(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  char sep = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &month, &day, &sep, &hour, &minute, &second,
                  &used) != 7 || (sep != ' ' && sep != 'T'))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 || year < 1970)
    return std::nullopt;
  double fraction = 0;
  std::string_view rest = std::string_view(text).substr(static_cast<std::size_t>(used));
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2 || rest.size() > 10) return std::nullopt;
    double scale = 0.1;
    for (char c : rest.substr(1)) {
      if (c < '0' || c > '9') return std::nullopt;
      fraction += (c - '0') * scale;
      scale /= 10;
    }
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<double>(t) + fraction;
}

Validity code_validity(const Json::Value& answer, const ExpirySource& source) {
  const auto times = json::resolve_all(answer, source.local_time);
  const Json::Value* clock = json::resolve(answer, source.server_time);
  if (!times) return {std::nullopt, "no expiry time at " + source.local_time};
  if (clock == nullptr || !clock->isNumeric() || !std::isfinite(clock->asDouble()))
    return {std::nullopt, "no server time (Unix seconds) at " + source.server_time};
  Json::Value list = times->isArray() ? *times : Json::Value(Json::arrayValue);
  if (!times->isArray()) list.append(*times);
  std::optional<double> earliest;
  for (const auto& item : list) {
    const auto t = item.isString() ? parse_zoneless_time(item.asString()) : std::nullopt;
    if (!t) return {std::nullopt, "the expiry time is not a date and time: " + sanitize(json::as_text(item), 40)};
    if (!earliest || *t < *earliest) earliest = t;
  }
  if (!earliest) return {std::nullopt, "no expiry time at " + source.local_time};
  const double left = std::fmod(std::fmod(*earliest - clock->asDouble(), kQuarterHour) + kQuarterHour, kQuarterHour);
  if (left < kShortest)
    return {std::nullopt, "the expiry time implies " + std::to_string(static_cast<long>(left)) +
                              " s (modulo 15 minutes), too short to be this code's validity"};
  const auto seconds = static_cast<long>(left);
  return {seconds, "valid for " + std::to_string(seconds) + " s (the provider's expiry time)"};
}

}  // namespace otp::provider
