#include "dialects/dialect_test_support.h"

#include <algorithm>
#include <cctype>

#include "dialects/dialect_util.h"
#include "test_env.h"

namespace otp::mock::testing {
namespace {

MockOptions options() {
  MockOptions o;
  o.cert_file = shared_pki().server_cert;
  o.key_file = shared_pki().server_key;
  return o;
}

std::string percent_encode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (std::isalnum(b) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

// "" stands for "no such header" in the tests.
std::vector<std::string> without_empty(std::vector<std::string> headers) {
  headers.erase(std::remove(headers.begin(), headers.end(), std::string()), headers.end());
  return headers;
}

}  // namespace

std::string form_encode(const Fields& fields) {
  std::string out;
  for (const auto& [name, value] : fields)
    out += (out.empty() ? "" : "&") + percent_encode(name) + "=" + percent_encode(value);
  return out;
}

std::string basic_auth_header(const std::string& user, const std::string& password) {
  return "Authorization: Basic " + base64_encode(user + ":" + password);
}

std::string header_of(const RecordedRequest& r, const std::string& lower_name) {
  for (const auto& [name, value] : r.headers)
    if (name == lower_name) return value;
  return "";
}

std::string wrong_code(const std::string& code) {
  std::string w = code.empty() ? "0" : code;
  w[0] = w[0] == '0' ? '1' : '0';
  return w;
}

Json::Value object(std::initializer_list<std::pair<const char*, Json::Value>> members) {
  Json::Value v(Json::objectValue);
  for (const auto& [name, value] : members) v[name] = value;
  return v;
}

DialectMock::DialectMock() : mock(options()), client(shared_pki().ca_cert) { mock.start(); }

HttpResult DialectMock::post_json(const std::string& path, const Json::Value& body,
                                  std::vector<std::string> headers) {
  headers.insert(headers.begin(), "Content-Type: application/json");
  return client.request("POST", url(path), to_json_text(body), without_empty(headers));
}

HttpResult DialectMock::post_form(const std::string& path, const Fields& fields,
                                  std::vector<std::string> headers) {
  headers.insert(headers.begin(), "Content-Type: application/x-www-form-urlencoded");
  return client.request("POST", url(path), form_encode(fields), without_empty(headers));
}

RecordedRequest DialectMock::last_request() const {
  const auto all = mock.requests();
  BOOST_TEST_REQUIRE(!all.empty());
  return all.back();
}

std::string DialectMock::code_for(const std::string& to) const {
  return mock.last_code_for(to).value_or("");
}

void DialectMock::limit(int max_failures, int max_sends) {
  MockSettings s;
  s.max_failures = max_failures;
  s.max_sends = max_sends;
  mock.configure(s);
}

}  // namespace otp::mock::testing
