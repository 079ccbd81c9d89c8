#include "directory/filter.h"

namespace otp::directory {
namespace {

constexpr std::string_view kUser = "${user}";

bool needs_escape(unsigned char c) { return c < 0x20 || c > 0x7e || c == '(' || c == ')' || c == '*' || c == '\\'; }

bool hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Why `text` (the template without its ${user}s) is not one filter, or "".
std::string shape_problem(std::string_view text) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') return "must be one filter in parentheses";
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      if (i + 2 >= text.size() || !hex_digit(text[i + 1]) || !hex_digit(text[i + 2]))
        return "has a '\\' that is not followed by two hex digits (RFC 4515)";
      i += 2;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return "has a ')' without its '('";
      if (depth == 0 && i + 1 != text.size()) return "must be one filter in parentheses (use (&...) for several)";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      return "has a control character";
    }
  }
  return depth == 0 ? "" : "has a '(' without its ')'";
}

}  // namespace

std::string escape_filter_value(std::string_view value) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (!needs_escape(c)) {
      out += ch;
      continue;
    }
    out += '\\';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<FilterTemplate> FilterTemplate::parse(std::string_view text, std::string* problem) {
  FilterTemplate t;
  std::string without;  // the template with each ${user} as a plain value, to check its shape
  for (std::size_t pos = 0;;) {
    const std::size_t at = text.find(kUser, pos);
    t.parts_.emplace_back(text.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
    without += t.parts_.back();
    if (at == std::string_view::npos) break;
    without += "x";
    pos = at + kUser.size();
  }
  std::string why;
  if (t.parts_.size() < 2) why = "must name the user as ${user}";
  else if (without.find("${") != std::string::npos) why = "may name only ${user}";
  else why = shape_problem(without);
  if (why.empty()) return t;
  if (problem != nullptr) *problem = why;
  return std::nullopt;
}

std::string FilterTemplate::expand(std::string_view user) const {
  if (parts_.empty()) return "";  // (a template never parsed matches nothing a server accepts)
  const std::string value = escape_filter_value(user);
  std::string out = parts_.front();
  for (std::size_t i = 1; i < parts_.size(); ++i) out += value + parts_[i];
  return out;
}

}  // namespace otp::directory
