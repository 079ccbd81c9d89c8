#include "test_curl.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "mock_json.h"

namespace otp::mock::testing {
namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::string trim(std::string s) {
  const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && space(static_cast<unsigned char>(s.back()))) s.pop_back();
  const auto first = std::find_if_not(s.begin(), s.end(), space);
  return std::string(first, s.end());
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  const std::string line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    headers->emplace_back(name, trim(line.substr(colon + 1)));
  }
  return size * count;
}

}  // namespace

std::string HttpResult::header(const std::string& lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return value;
  return "";
}

Json::Value HttpResult::json() const {
  auto parsed = parse_json(body);
  return parsed ? *parsed : Json::Value();
}

std::string to_json_text(const Json::Value& v) { return to_text(v); }

CurlClient::CurlClient(const std::string& ca_file) : easy_(curl_easy_init()), ca_file_(ca_file) {
  if (!easy_) throw std::runtime_error("curl_easy_init failed");
}

void CurlClient::resolve(const std::string& entry) {
  curl_slist* next = curl_slist_append(resolve_.get(), entry.c_str());
  if (next == nullptr) throw std::runtime_error("curl_slist_append failed");
  (void)resolve_.release();
  resolve_.reset(next);
}

HttpResult CurlClient::request(const std::string& method, const std::string& url,
                               const std::string& body, const std::vector<std::string>& headers) {
  CURL* c = easy_.get();
  std::unique_ptr<curl_slist, ListFree> list;
  for (const auto& h : headers) {
    curl_slist* next = curl_slist_append(list.get(), h.c_str());
    (void)list.release();
    list.reset(next);
  }
  HttpResult r;
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_reset(c);  // keeps the connection cache: reuse still happens
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, tls_version_);
  if (!ciphers_.empty()) curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, ciphers_.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms_);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c, CURLOPT_RESOLVE, resolve_.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  r.code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  // `error` and `list` are about to go away.
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  r.error = error;
  return r;
}

HttpResult CurlClient::post(const std::string& url, const Json::Value& body,
                            const std::string& auth) {
  std::vector<std::string> headers{"Content-Type: application/json"};
  if (!auth.empty()) headers.push_back("Authorization: " + auth);
  return request("POST", url, to_text(body), headers);
}

HttpResult CurlClient::get(const std::string& url) { return request("GET", url, "", {}); }

}  // namespace otp::mock::testing
