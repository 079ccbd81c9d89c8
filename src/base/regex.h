// A POSIX extended regular expression (code_pattern, a provider condition's
// pattern), compiled once where it is read and freed with its last copy.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace otp {

class Regex {
 public:
  // The compiled expression, or nullopt with `error` saying why.
  static std::optional<Regex> compile(const std::string& expr, std::string& error);
  // An expression written in the source (a default), known to compile.
  static Regex literal(const char* expr);

  // Whether `text` holds a match (anchor the expression for a whole match).
  // A C string, so that a secret is matched where it is, never copied.
  bool matches(const char* text) const;
  bool matches(const std::string& text) const { return matches(text.c_str()); }
  const std::string& source() const { return source_; }

 private:
  struct Compiled;
  Regex(std::shared_ptr<const Compiled> compiled, std::string source)
      : compiled_(std::move(compiled)), source_(std::move(source)) {}
  std::shared_ptr<const Compiled> compiled_;
  std::string source_;
};

}  // namespace otp
