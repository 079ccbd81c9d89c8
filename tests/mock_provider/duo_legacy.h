// Duo's legacy Auth API (/rest/v1/*.bson), as pam_duo 1.11 (Debian
// libpam-duo) speaks it: the benchmark runs pam_duo against the same mock,
// with the same delay and TLS, as pam_otp. Preauth offers a passcode; any
// passcode is allowed (the signature is not checked).
#pragma once

#include <string>

namespace otp::mock {

class MockProvider;

// Registers the routes; call before mock.start().
void add_duo_legacy_routes(MockProvider& mock);

// A BSON document of strings and sub-documents, which is all Duo's answers use.
class BsonDocument {
 public:
  BsonDocument& add(const std::string& name, const std::string& value);
  BsonDocument& add(const std::string& name, const BsonDocument& value);
  std::string bytes() const;

 private:
  std::string elements_;
};

}  // namespace otp::mock
