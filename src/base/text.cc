#include "base/text.h"

#include <algorithm>
#include <cctype>

namespace otp {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// Bidirectional formatting characters: embeddings and overrides
// (U+202A-U+202E), isolates (U+2066-U+2069) and marks (U+061C, U+200E,
// U+200F). They reorder what a terminal or a log viewer shows ("Trojan
// Source"), so provider text loses them with the control characters.
bool is_bidi_format(unsigned cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061C || cp == 0x200E ||
         cp == 0x200F;
}

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when it
// is invalid. *control is set for C1 controls (U+0080..U+009F), which are
// as dangerous as C0 ones on some terminals, and for bidi formatting.
std::size_t utf8_length(std::string_view s, std::size_t i, bool* control) {
  *control = false;
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned min = 0;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) { n = 2; min = 0x80; }
  else if (b0 >= 0xE0 && b0 <= 0xEF) { n = 3; min = 0x800; }
  else if (b0 >= 0xF0 && b0 <= 0xF4) { n = 4; min = 0x10000; }
  else return 0;
  if (i + n > s.size()) return 0;
  unsigned cp = b0 & (0xFF >> (n + 1));
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *control = cp <= 0x9F || is_bidi_format(cp);
  return n;
}

}  // namespace

bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    bool control = false;
    const std::size_t n = utf8_length(s, i, &control);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool equals_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() && to_lower(a) == to_lower(b);
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equals_ci(s.substr(0, prefix.size()), prefix);
}

std::string sanitize(std::string_view s, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    bool c1 = false;
    std::size_t n = utf8_length(s, i, &c1);
    std::string_view piece;
    if (n == 0) { piece = "?"; n = 1; }
    else if (n == 1 && (b < 0x20 || b == 0x7F)) piece = (b == '\t' || b == '\n') ? " " : "";
    else if (!c1) piece = s.substr(i, n);
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
    i += n;
  }
  return out;
}

namespace {

bool email_local_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("._%+-'").find(c) != std::string_view::npos;
}
bool email_domain_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; }

// Replaces every e-mail-shaped run around an '@' with its masked form.
std::string mask_emails(std::string_view s) {
  std::string out;
  std::size_t copied = 0;
  for (std::size_t at = s.find('@'); at != std::string_view::npos; at = s.find('@', at + 1)) {
    std::size_t begin = at, end = at + 1;
    while (begin > copied && email_local_char(s[begin - 1])) --begin;
    while (end < s.size() && email_domain_char(s[end])) ++end;
    while (end > at + 1 && (s[end - 1] == '.' || s[end - 1] == '-')) --end;  // a sentence's final stop
    if (!is_email(s.substr(begin, end - begin))) continue;
    out.append(s.substr(copied, begin - copied));
    out += mask_email(s.substr(begin, end - begin));
    copied = end;
    at = end - 1;
  }
  return out.append(s.substr(copied));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Where the run of digits starting at i ends: digits, with at most two
// separators (space . - ( ) /) between two of them, as phone numbers are written.
std::size_t digit_run_end(std::string_view s, std::size_t i, std::string& digits) {
  std::size_t end = i;
  while (end < s.size()) {
    if (is_digit(s[end])) {
      digits += s[end++];
      continue;
    }
    std::size_t next = end;
    while (next < s.size() && next - end < 2 && std::string_view(" .-()/").find(s[next]) != std::string_view::npos) ++next;
    if (next == end || next >= s.size() || !is_digit(s[next])) break;
    end = next;
  }
  return end;
}

// Replaces every run of 7 or more digits (a '+' before it kept) with the
// masked form: a phone number in any format.
std::string mask_numbers(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const bool plus = s[i] == '+' && i + 1 < s.size() && is_digit(s[i + 1]);
    if (!plus && !is_digit(s[i])) {
      out += s[i++];
      continue;
    }
    std::string digits = plus ? "+" : "";
    const std::size_t end = digit_run_end(s, plus ? i + 1 : i, digits);
    const std::size_t count = digits.size() - (plus ? 1 : 0);
    out += count >= 7 ? mask_phone(digits) : std::string(s.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace

std::string mask_contacts(std::string_view s) { return mask_numbers(mask_emails(s)); }

std::string shown_text(std::string_view s, std::size_t max_bytes) {
  // Masking shortens a number at most threefold (separators dropped), so a
  // contact cut by the first bound ends past the second one.
  return sanitize(mask_contacts(sanitize(s, 4 * max_bytes)), max_bytes);
}

std::string mask_phone(std::string_view phone) {
  if (phone.size() < 7) return std::string(phone.substr(0, 1)) + "***";
  const std::size_t keep_head = phone.front() == '+' ? 2 : 1;
  std::string out(phone.substr(0, keep_head));
  out.append(phone.size() - keep_head - 4, '*');
  out += phone.substr(phone.size() - 4);
  return out;
}

std::string mask_email(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0) return std::string(email.substr(0, 1)) + "***";
  return std::string(email.substr(0, 1)) + "***" + std::string(email.substr(at));
}

std::string mask_destination(std::string_view destination) {
  if (destination.find('@') != std::string_view::npos) return mask_email(destination);
  return mask_phone(destination);
}

std::string log_value(std::string_view s) {
  std::string clean = sanitize(s, 256);
  const bool needs_quotes = clean.empty() ||
      clean.find_first_of(" \"=") != std::string::npos;
  if (!needs_quotes) return clean;
  std::string out = "\"";
  for (char c : clean) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool is_e164(std::string_view s) {
  if (s.size() < 8 || s.size() > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9') return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_email(std::string_view s) {
  const auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos)
    return false;
  const auto domain = s.substr(at + 1);
  const auto dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= domain.size()) return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
  });
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool listed(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace otp
