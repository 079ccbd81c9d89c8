#include "mask.h"

namespace otp::mock {
namespace {

std::string mask_email(const std::string& to, std::size_t at) {
  if (at == 0) return "***" + to.substr(at);
  return to.substr(0, 1) + "***" + to.substr(at);
}

std::string mask_phone(const std::string& to) {
  const std::size_t head = (!to.empty() && to[0] == '+') ? 2 : 1;
  constexpr std::size_t tail = 4;
  // Too short to hide anything while showing head and tail: hide it all.
  if (to.size() <= head + tail) return std::string(to.size(), '*');
  return to.substr(0, head) + std::string(to.size() - head - tail, '*') +
         to.substr(to.size() - tail);
}

}  // namespace

std::string mask_destination(const std::string& to) {
  const auto at = to.rfind('@');
  return at == std::string::npos ? mask_phone(to) : mask_email(to, at);
}

}  // namespace otp::mock
