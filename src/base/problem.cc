#include "base/problem.h"

#include <algorithm>

namespace otp {

std::string Problem::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (warning) out += "warning: ";
  if (!key.empty()) out += "key '" + key + "': ";
  return out + message;
}

bool Problems::has_errors() const {
  return std::any_of(list_.begin(), list_.end(), [](const Problem& p) { return !p.warning; });
}

}  // namespace otp
