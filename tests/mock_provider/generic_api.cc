// The mock's own "generic" JSON API: POST /v1/otp/send and /v1/otp/verify.
// HTTP concerns (auth, body shape) live here; the rules live in OtpEngine.
#include <cctype>
#include <cstdio>
#include <initializer_list>
#include <utility>

#include "mask.h"
#include "mock_json.h"
#include "mock_provider.h"

namespace otp::mock {
namespace {

bool authorized(const httplib::Request& req, const std::string& api_key) {
  const std::string value = req.get_header_value("Authorization");
  const auto space = value.find(' ');
  if (space == std::string::npos) return false;
  std::string scheme = value.substr(0, space);
  // The scheme is case-insensitive (RFC 9110); the token is not.
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme == "bearer" && value.substr(space + 1) == api_key;
}

// What a client sent, fit for a terminal: no control characters (escape
// sequences), at most 64 bytes.
std::string printable(const std::string& text) {
  std::string out = text.substr(0, 64);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

Reply invalid(const std::string& field) {
  return error_reply(400, "invalid_request", field);
}

// Fills each named field from obj; the first that is missing, not a string
// or empty becomes a 400 naming it.
std::optional<Reply> read_fields(const Json::Value& obj,
                                 std::initializer_list<std::pair<const char*, std::string*>> fields) {
  for (const auto& [name, out] : fields) {
    if (!obj.isMember(name) || !obj[name].isString() || obj[name].asString().empty())
      return invalid(name);
    *out = obj[name].asString();
  }
  return std::nullopt;
}

bool valid_channel(const std::string& channel) {
  return channel == "sms" || channel == "email" || channel == "whatsapp" || channel == "voice";
}

Reply send_reply(OtpEngine& engine, const httplib::Request& req) {
  if (!authorized(req, engine.settings().api_key))
    return error_reply(401, "invalid_api_key", "The API key is not valid");
  const auto body = parse_object(req.body);
  if (!body) return invalid("body");
  SendInput in;
  if (auto bad = read_fields(*body, {{"user", &in.user}, {"channel", &in.channel}, {"to", &in.to}}))
    return *bad;
  if (!valid_channel(in.channel)) return invalid("channel");
  return engine.send(in, Clock::now());
}

Reply verify_reply(OtpEngine& engine, const httplib::Request& req) {
  if (!authorized(req, engine.settings().api_key))
    return error_reply(401, "invalid_api_key", "The API key is not valid");
  const auto body = parse_object(req.body);
  if (!body) return invalid("body");
  VerifyInput in;
  if (auto bad = read_fields(*body, {{"transaction_id", &in.transaction_id}, {"code", &in.code}}))
    return *bad;
  return engine.verify(in, Clock::now());
}

}  // namespace

// One write per line so that concurrent deliveries do not interleave.
void MockProvider::print_code(const Delivery& d) {
  const std::string line = "[otp-mock] " + printable(d.channel) + " to " + printable(mask_destination(d.to)) +
                           " for " + printable(d.user) + ": code " + printable(d.code) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void MockProvider::respond(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  if (reply.retry_after > 0) res.set_header("Retry-After", std::to_string(reply.retry_after));
  res.set_content(to_text(reply.body), "application/json");
}

void MockProvider::add_generic_routes() {
  server_->Post("/v1/otp/send", wrap([this](const httplib::Request& req, httplib::Response& res) {
                  handle_send(req, res);
                }));
  server_->Post("/v1/otp/verify",
                wrap([this](const httplib::Request& req, httplib::Response& res) {
                  handle_verify(req, res);
                }));
}

void MockProvider::handle_send(const httplib::Request& req, httplib::Response& res) {
  Reply reply;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    reply = send_reply(engine_, req);
    reply.body["request_id"] = engine_.next_request_id();
  }
  if (reply.delivered && options_.print_codes) print_code(*reply.delivered);
  respond(res, reply);
}

void MockProvider::handle_verify(const httplib::Request& req, httplib::Response& res) {
  Reply reply;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    reply = verify_reply(engine_, req);
    reply.body["request_id"] = engine_.next_request_id();
  }
  respond(res, reply);
}

}  // namespace otp::mock
