#include "duo_legacy.h"

#include <cstdint>

#include "mock_provider.h"

namespace otp::mock {
namespace {

void append_int32(std::string& out, std::uint32_t n) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));  // little-endian
}

void reply(httplib::Response& res, const BsonDocument& response) {
  res.status = 200;
  res.set_content(BsonDocument().add("stat", "OK").add("response", response).bytes(), "application/bson");
}

BsonDocument allow() {
  return BsonDocument().add("result", "allow").add("status", "Success. Logging you in...");
}

}  // namespace

BsonDocument& BsonDocument::add(const std::string& name, const std::string& value) {
  elements_ += '\x02' + name + '\0';
  append_int32(elements_, static_cast<std::uint32_t>(value.size() + 1));
  elements_ += value + '\0';
  return *this;
}

BsonDocument& BsonDocument::add(const std::string& name, const BsonDocument& value) {
  elements_ += '\x03' + name + '\0' + value.bytes();
  return *this;
}

std::string BsonDocument::bytes() const {
  std::string out;
  append_int32(out, static_cast<std::uint32_t>(4 + elements_.size() + 1));
  return out + elements_ + '\0';
}

void add_duo_legacy_routes(MockProvider& mock) {
  auto& server = mock.server();
  server.Post("/rest/v1/preauth.bson", mock.wrap([](const httplib::Request&, httplib::Response& res) {
    const std::string prompt =
        "Duo two-factor login\n\nEnter a passcode or select one of the following options:\n\n"
        " 1. Duo Push to XXX-XXX-4567\n\nPasscode or option (1-1): ";
    reply(res, BsonDocument()
                   .add("result", "auth")
                   .add("status", "Account is active")
                   .add("prompt", prompt)
                   .add("factors", BsonDocument().add("default", "push1").add("1", "push1")));
  }));
  // Synchronous passcode checks answer at once; with async=1 (push, phone)
  // a transaction id, then the status call answers.
  server.Post("/rest/v1/auth.bson", mock.wrap([](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("async") && req.get_param_value("async") == "1")
      reply(res, BsonDocument().add("txid", "duo-tx-1"));
    else
      reply(res, allow());
  }));
  server.Get("/rest/v1/status.bson", mock.wrap([](const httplib::Request&, httplib::Response& res) {
    reply(res, allow());
  }));
}

}  // namespace otp::mock
