#include "http/url_policy.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <memory>

#include "base/text.h"

namespace otp::http {
namespace {

struct CurlUrlFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlStrFree {
  void operator()(char* s) const { curl_free(s); }
};

std::optional<std::string> url_part(CURLU* u, CURLUPart part) {
  char* raw = nullptr;
  if (curl_url_get(u, part, &raw, 0) != CURLUE_OK) return std::nullopt;
  const std::unique_ptr<char, CurlStrFree> owned(raw);
  return std::string(raw);
}

}  // namespace

std::optional<UrlParts> parse_url(std::string_view url) {
  const std::unique_ptr<CURLU, CurlUrlFree> u(curl_url());
  if (!u) return std::nullopt;
  const std::string text(url);
  if (curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto scheme = url_part(u.get(), CURLUPART_SCHEME);
  auto host = url_part(u.get(), CURLUPART_HOST);
  if (!scheme || !host || host->empty()) return std::nullopt;
  return UrlParts{to_lower(*scheme), to_lower(*host)};
}

std::string redact_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const std::size_t start = scheme_end + 3;
  const std::size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const auto at = url.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start)) + "<redacted>" + std::string(url.substr(start + at));
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  std::string h(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::optional<std::string> url_problem(std::string_view url) {
  const auto parts = parse_url(url);
  if (!parts) return "'" + std::string(url) + "' is not a valid URL";
  if (parts->scheme == "https") return std::nullopt;
  if (parts->scheme == "http") {
    if (is_loopback_host(parts->host)) return std::nullopt;
    return "'" + std::string(url) + "' uses http:// to a host that is not loopback; only https:// is allowed "
           "(http:// is accepted for 127.0.0.0/8, ::1 and localhost only)";
  }
  return "'" + std::string(url) + "' has scheme '" + parts->scheme + "'; only https:// is allowed";
}

}  // namespace otp::http
