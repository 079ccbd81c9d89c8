#include "dialects/dialect_util.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <vector>

#include "otp_random.h"

namespace otp::mock {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The credentials of "Authorization: <scheme> <credentials>" if the scheme
// matches (case-insensitively, RFC 9110).
std::optional<std::string> auth_credentials(const httplib::Request& req,
                                            const std::string& scheme) {
  const std::string value = req.get_header_value("Authorization");
  const auto space = value.find(' ');
  if (space == std::string::npos || lower(value.substr(0, space)) != scheme) return std::nullopt;
  return value.substr(space + 1);
}

bool is_base64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> form_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] != '%') {
      out.push_back(s[i]);
    } else {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(const std::string& text) {
  // EVP_DecodeBlock tolerates surrounding blanks and reports padding as
  // zero bytes: check the shape first, then strip what padding added.
  if (text.empty()) return std::string();
  if (text.size() % 4 != 0) return std::nullopt;
  const auto last = text.find_last_not_of('=');
  const std::size_t pad = last == std::string::npos ? text.size() : text.size() - last - 1;
  if (pad > 2) return std::nullopt;
  if (!std::all_of(text.begin(), text.end() - static_cast<std::ptrdiff_t>(pad), is_base64_char))
    return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::optional<BasicCredentials> basic_auth(const httplib::Request& req) {
  const auto encoded = auth_credentials(req, "basic");
  if (!encoded) return std::nullopt;
  const auto decoded = base64_decode(*encoded);
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::optional<std::string> bearer_token(const httplib::Request& req) {
  return auth_credentials(req, "bearer");
}

std::string media_type(const httplib::Request& req) {
  std::string value = req.get_header_value("Content-Type");
  value = value.substr(0, value.find(';'));
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return lower(value);
}

std::optional<std::map<std::string, std::string>> parse_form(const std::string& body) {
  std::map<std::string, std::string> fields;
  std::size_t start = 0;
  while (start <= body.size()) {
    const std::size_t end = std::min(body.find('&', start), body.size());
    const std::string pair = body.substr(start, end - start);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      const auto name = form_decode(pair.substr(0, eq));
      const auto value = form_decode(eq == std::string::npos ? "" : pair.substr(eq + 1));
      if (!name || !value) return std::nullopt;
      fields[*name] = *value;
    }
    start = end + 1;
  }
  return fields;
}

std::string string_field(const Json::Value& obj, const char* name) {
  const Json::Value& v = obj[name];
  return v.isString() ? v.asString() : "";
}

bool is_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_e164(const std::string& s) {
  return s.size() >= 3 && s.size() <= 16 && s[0] == '+' && s[1] != '0' && is_digits(s.substr(1));
}

bool is_email(const std::string& s) {
  const auto at = s.find('@');
  if (at == 0 || at == std::string::npos || s.find('@', at + 1) != std::string::npos) return false;
  const auto dot = s.find('.', at + 2);
  const bool blank = std::any_of(
      s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  return dot != std::string::npos && dot + 1 < s.size() && !blank;
}

std::string random_uuid() {
  std::string hex = random_hex(16);
  hex[12] = '4';  // version 4
  // The variant: the top two bits of byte 8 are 10.
  static constexpr char kVariant[] = "89ab";
  hex[16] = kVariant[hex_value(hex[16]) & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Reply json_reply(int status, Json::Value body) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace otp::mock
