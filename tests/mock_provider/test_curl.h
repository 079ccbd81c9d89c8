// A small libcurl client for the mock's tests: real TLS verification against
// the test CA, and one easy handle per client so connections are reused
// exactly as pam_otp's transport reuses them.
#pragma once

#include <curl/curl.h>
#include <json/json.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace otp::mock::testing {

struct HttpResult {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string error;                                        // curl's message

  std::string header(const std::string& lower_name) const;  // "" if absent
  Json::Value json() const;  // null unless the body is a JSON object or array
};

class CurlClient {
 public:
  explicit CurlClient(const std::string& ca_file);

  // Adds "host:port:address" to the handle's DNS overrides.
  void resolve(const std::string& entry);
  void set_timeout_ms(long ms) { timeout_ms_ = ms; }
  // CURLOPT_SSLVERSION, e.g. CURL_SSLVERSION_TLSv1_1 | CURL_SSLVERSION_MAX_TLSv1_1.
  void set_tls_version(long curl_sslversion) { tls_version_ = curl_sslversion; }
  void set_ciphers(const std::string& list) { ciphers_ = list; }

  HttpResult request(const std::string& method, const std::string& url, const std::string& body,
                     const std::vector<std::string>& headers);
  // POST with a JSON body and the default Bearer key unless auth is given.
  HttpResult post(const std::string& url, const Json::Value& body,
                  const std::string& auth = "Bearer test-api-key");
  HttpResult get(const std::string& url);

 private:
  struct EasyFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  struct ListFree {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };
  std::unique_ptr<CURL, EasyFree> easy_;
  std::unique_ptr<curl_slist, ListFree> resolve_;
  std::string ca_file_;
  long timeout_ms_ = 10000;
  long tls_version_ = CURL_SSLVERSION_DEFAULT;
  std::string ciphers_;
};

std::string to_json_text(const Json::Value& v);

}  // namespace otp::mock::testing
