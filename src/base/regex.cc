#include "base/regex.h"

#include <regex.h>

#include <stdexcept>

namespace otp {

struct Regex::Compiled {
  regex_t re{};
  bool ok = false;  // regfree only what regcomp made
  Compiled() = default;
  Compiled(const Compiled&) = delete;
  Compiled& operator=(const Compiled&) = delete;
  ~Compiled() {
    if (ok) regfree(&re);
  }
};

std::optional<Regex> Regex::compile(const std::string& expr, std::string& error) {
  auto compiled = std::make_shared<Compiled>();
  const int rc = regcomp(&compiled->re, expr.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char why[128];
    regerror(rc, &compiled->re, why, sizeof why);
    error = why;
    return std::nullopt;
  }
  compiled->ok = true;
  return Regex(std::move(compiled), expr);
}

Regex Regex::literal(const char* expr) {
  std::string error;
  auto re = compile(expr, error);
  if (!re) throw std::logic_error(std::string("bad built-in regular expression: ") + expr + ": " + error);
  return std::move(*re);
}

bool Regex::matches(const char* text) const {
  return compiled_ && regexec(&compiled_->re, text, 0, nullptr, 0) == 0;
}

}  // namespace otp
