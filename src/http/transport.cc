#include "http/transport.h"

#include "base/text.h"

namespace otp::http {

std::string_view failure_name(Failure f) {
  switch (f) {
    case Failure::None: return "none";
    case Failure::Refused: return "refused";
    case Failure::Connect: return "connect";
    case Failure::Untrusted: return "tls_verification";
    case Failure::Timeout: return "timeout";
    case Failure::TooLarge: return "too_large";
    case Failure::Protocol: return "protocol";
  }
  return "unknown";
}

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  std::optional<std::string> found;
  for (const auto& [key, value] : headers)
    if (equals_ci(key, name)) found = value;
  return found;
}

std::optional<std::string> Response::header(std::string_view name) const { return find_header(headers, name); }

}  // namespace otp::http
