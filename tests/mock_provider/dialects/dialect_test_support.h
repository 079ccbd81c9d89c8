// What the dialect tests share: a started mock on the test PKI, a libcurl
// client that verifies it, and helpers to speak each wire format.
#pragma once

#include <boost/test/unit_test.hpp>
#include <string>
#include <utility>
#include <vector>

#include "mock_provider.h"
#include "test_curl.h"

namespace otp::mock::testing {

using Fields = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded, written independently of the mock's
// parser: unreserved characters stay, every other octet becomes %XX.
std::string form_encode(const Fields& fields);

// "Authorization: Basic base64(user:password)"
std::string basic_auth_header(const std::string& user, const std::string& password);

// The value of a recorded header ("" if absent).
std::string header_of(const RecordedRequest& r, const std::string& lower_name);

// Another code of the same length, certainly different.
std::string wrong_code(const std::string& code);

struct DialectMock {
  DialectMock();
  std::string url(const std::string& path) const { return mock.base_url() + path; }
  // POST with Content-Type: application/json and the given extra headers.
  HttpResult post_json(const std::string& path, const Json::Value& body,
                       std::vector<std::string> headers);
  HttpResult post_form(const std::string& path, const Fields& fields,
                       std::vector<std::string> headers);
  // The last request the mock recorded (fails the test if there is none).
  RecordedRequest last_request() const;
  std::string code_for(const std::string& to) const;  // "" if none was sent
  void limit(int max_failures, int max_sends);        // other MockSettings keep their defaults

  MockProvider mock;
  CurlClient client;
};

Json::Value object(std::initializer_list<std::pair<const char*, Json::Value>> members);

}  // namespace otp::mock::testing
