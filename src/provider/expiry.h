// How long a sent code stays valid, read from the send's answer where the
// provider says when it expires in its own local time, without a zone
// (privacyIDEA's multi_challenge[].attributes.valid_until). See
// docs/design.md, "Codes that expire".
#pragma once

#include <json/value.h>

#include <optional>
#include <string>

namespace otp::provider {

// Where the expiry is in the send's answer: JSON Pointers (the first may
// hold "*") to the local expiry time(s) and to the server's clock in Unix
// seconds. Empty: the step gives no expiry.
struct ExpirySource {
  std::string local_time;
  std::string server_time;
  bool enabled() const { return !local_time.empty(); }
};

struct Validity {
  std::optional<long> seconds;  // how long from the answer on; nullopt: unknown
  std::string why;              // for the log: the value used, or why none is
};

// The zone's offset is unknown, but every zone's is a whole number of
// quarter hours, so the validity is (local expiry - server clock) modulo
// 15 minutes: exact for validities under 15 minutes, shorter (never longer)
// for longer ones. Of several expiry times the earliest counts.
Validity code_validity(const Json::Value& answer, const ExpirySource& source);

// "2026-12-07 08:27:15.661909" (or with 'T'), read as UTC: seconds since
// the epoch; nullopt when it is not such a time.
std::optional<double> parse_zoneless_time(const std::string& text);

}  // namespace otp::provider
