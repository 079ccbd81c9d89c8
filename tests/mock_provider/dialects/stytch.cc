// Stytch's consumer OTP API (providers.md "Stytch"): HTTP Basic
// project_id:secret; send to an existing user's phone or e-mail, then
// authenticate with the phone_id/email_id the send returned as method_id.
// Sources: requests as the stytch Node SDK 14.2 sends them (checked by
// tests/conformance); error bodies and error_type values from Stytch's API
// reference (the SDK types error_type as a plain string).
#include <algorithm>
#include <map>

#include "dialects/code_book.h"
#include "dialects/dialect.h"
#include "dialects/dialect_util.h"
#include "dialects/settings_json.h"
#include "mock_json.h"

namespace otp::mock {
namespace {

using Req = httplib::Request;

constexpr int kDefaultMinutes = 2, kMinMinutes = 1, kMaxMinutes = 10;

// Stytch's ids say which environment they belong to.
std::string env(const StytchSettings& s) {
  return s.project_id.rfind("project-live-", 0) == 0 ? "live" : "test";
}

Reply error(const StytchSettings& s, int status, const std::string& type,
            const std::string& message) {
  Json::Value v(Json::objectValue);
  v["status_code"] = status;
  v["request_id"] = "request-id-" + env(s) + "-" + random_uuid();
  v["error_type"] = type;
  v["error_message"] = message;
  v["error_url"] = "https://stytch.com/docs/api/errors/" + std::to_string(status) + "#" + type;
  return json_reply(status, v);
}

Reply success(const StytchSettings& s) {
  Json::Value v(Json::objectValue);
  v["status_code"] = 200;
  v["request_id"] = "request-id-" + env(s) + "-" + random_uuid();
  return json_reply(200, v);
}

bool authorized(const Req& req, const StytchSettings& s) {
  const auto creds = basic_auth(req);
  return creds && creds->user == s.project_id && creds->password == s.secret;
}

Reply unauthorized(const StytchSettings& s) {
  return error(s, 401, "unauthorized_credentials",
               "Unauthorized credentials. Please check your project_id and secret.");
}

Reply locked(const StytchSettings& s) {
  // The status is unconfirmed; 429 (like the rate limit), no Retry-After.
  return error(s, 429, "user_lock_limit_reached",
               "The user has been locked out after too many failed attempts.");
}

bool known(const StytchSettings& s, const std::string& destination) {
  const auto& list = s.known_destinations;
  return list.empty() || std::find(list.begin(), list.end(), destination) != list.end();
}

// expiration_minutes if absent or valid, else nullopt.
std::optional<int> expiration_minutes(const Json::Value& body) {
  if (!body.isMember("expiration_minutes")) return kDefaultMinutes;
  const Json::Value& v = body["expiration_minutes"];
  if (!v.isInt() || v.asInt() < kMinMinutes || v.asInt() > kMaxMinutes) return std::nullopt;
  return v.asInt();
}

// A phone number or e-mail of a user, with the ids Stytch gave them.
struct Method {
  std::string user_id, method_id;
};

class Stytch final : public Dialect {
 public:
  std::vector<DialectRoute> routes() override {
    return {{"/v1/otps/(sms|email|whatsapp)/send",
             [this](const Req& req, DialectContext& ctx) { return send(req, ctx); }},
            {"/v1/otps/authenticate",
             [this](const Req& req, DialectContext& ctx) { return authenticate(req, ctx); }}};
  }
  void expire_codes() override { codes_.expire_all(); }
  void reset() override {
    codes_.clear();
    locks_.clear();
    sends_.clear();
  }

 private:
  Reply send(const Req& req, DialectContext& ctx);
  Reply authenticate(const Req& req, DialectContext& ctx);
  std::optional<Reply> send_refusal(const StytchSettings& s, const Json::Value& body,
                                    const std::string& channel, DialectContext& ctx);
  const Method& method_for(const StytchSettings& s, const std::string& destination, bool email);
  Reply wrong_code(const StytchSettings& s, const std::string& user_id, DialectContext& ctx);

  // Users and their ids are account data: kept across reset().
  std::map<std::string, Method> by_destination_;
  std::map<std::string, std::string> user_of_method_;
  CodeBook codes_;      // by method_id
  FailureLocks locks_;  // by user_id
  SendWindow sends_;    // by destination
};

const Method& Stytch::method_for(const StytchSettings& s, const std::string& destination,
                                 bool email) {
  auto it = by_destination_.find(destination);
  if (it == by_destination_.end()) {
    const std::string kind = email ? "email-" : "phone-number-";
    Method m{"user-" + env(s) + "-" + random_uuid(), kind + env(s) + "-" + random_uuid()};
    user_of_method_[m.method_id] = m.user_id;
    it = by_destination_.emplace(destination, m).first;
  }
  return it->second;
}

// Why a well-formed send must not deliver, in the order Stytch checks.
std::optional<Reply> Stytch::send_refusal(const StytchSettings& s, const Json::Value& body,
                                          const std::string& channel, DialectContext& ctx) {
  const bool email = channel == "email";
  const std::string to = string_field(body, email ? "email" : "phone_number");
  if (email && !is_email(to)) return error(s, 400, "invalid_email", "Email format is invalid.");
  if (!email && !is_e164(to))
    return error(s, 400, "invalid_phone_number",
                 "Phone number format is invalid. Ensure the phone number is in the E.164 format.");
  if (!expiration_minutes(body))
    return error(s, 400, "invalid_expiration_minutes",
                 "expiration_minutes must be an integer from 1 to 10.");
  if (!known(s, to))
    return email ? error(s, 404, "email_not_found", "Email could not be found.")
                 : error(s, 404, "phone_number_not_found", "Phone number could not be found.");
  if (locks_.locked(method_for(s, to, email).user_id, ctx.now())) return locked(s);
  const MockSettings& m = ctx.mock_settings();
  if (sends_.try_send(to, m.max_sends, m.send_window_seconds, ctx.now()) > 0)
    return error(s, 429, "too_many_requests", "Too many requests have been made.");
  return std::nullopt;
}

Reply Stytch::send(const Req& req, DialectContext& ctx) {
  const StytchSettings& s = ctx.dialects().stytch;
  if (!authorized(req, s)) return unauthorized(s);
  const auto body = parse_object(req.body);
  if (!body) return error(s, 400, "bad_request", "The request body is not a JSON object.");
  const std::string channel = req.matches[1];
  if (auto refusal = send_refusal(s, *body, channel, ctx)) return *refusal;

  const bool email = channel == "email";
  const std::string to = string_field(*body, email ? "email" : "phone_number");
  const Method& m = method_for(s, to, email);
  const std::string code = ctx.new_code();
  codes_.issue(m.method_id, code, ctx.now() + std::chrono::minutes(*expiration_minutes(*body)));
  ctx.deliver(Delivery{m.user_id, channel, to, code, m.method_id});
  Reply r = success(s);
  r.body["user_id"] = m.user_id;
  r.body[email ? "email_id" : "phone_id"] = m.method_id;
  return r;
}

Reply Stytch::wrong_code(const StytchSettings& s, const std::string& user_id, DialectContext& ctx) {
  const MockSettings& m = ctx.mock_settings();
  // Like the generic API, the failure that reaches max_failures locks.
  if (locks_.fail(user_id, m.max_failures, std::chrono::seconds(m.lock_seconds), ctx.now()))
    return locked(s);
  return error(s, 404, "otp_code_not_found", "The OTP code could not be found.");
}

Reply Stytch::authenticate(const Req& req, DialectContext& ctx) {
  const StytchSettings& s = ctx.dialects().stytch;
  if (!authorized(req, s)) return unauthorized(s);
  const auto body = parse_object(req.body);
  if (!body) return error(s, 400, "bad_request", "The request body is not a JSON object.");
  const std::string method_id = string_field(*body, "method_id");
  const std::string code = string_field(*body, "code");
  if (method_id.empty() || code.empty())
    return error(s, 400, "bad_request", "method_id and code are required.");
  const auto user = user_of_method_.find(method_id);
  if (user == user_of_method_.end())
    return error(s, 404, "otp_code_not_found", "The OTP code could not be found.");
  if (locks_.locked(user->second, ctx.now())) return locked(s);

  switch (codes_.check(method_id, code, ctx.now())) {
    case CodeCheck::ok: {
      locks_.succeed(user->second);
      Reply r = success(s);
      r.body["user_id"] = user->second;
      r.body["method_id"] = method_id;
      return r;
    }
    case CodeCheck::expired:
    case CodeCheck::used:
      return error(s, 401, "unable_to_auth_otp_code",
                   "Unable to authenticate the OTP code: it has expired or was already used.");
    case CodeCheck::wrong:
    case CodeCheck::none:
      break;
  }
  return wrong_code(s, user->second, ctx);
}


void apply_settings(const Json::Value& o, Dialects& d) {
  read_string(o, "project_id", d.stytch.project_id);
  read_string(o, "secret", d.stytch.secret);
  read_string_list(o, "known_destinations", d.stytch.known_destinations);
}

Json::Value settings_json(const Dialects& d) {
  Json::Value v(Json::objectValue);
  v["project_id"] = d.stytch.project_id;
  v["secret"] = d.stytch.secret;
  v["known_destinations"] = list_json(d.stytch.known_destinations);
  return v;
}

void validate_settings(const Dialects& d) {
  require_field(!d.stytch.project_id.empty() && !d.stytch.secret.empty(), "credentials");
  for (const auto& to : d.stytch.known_destinations) require_field(is_e164(to) || is_email(to), "known_destinations");
}

}  // namespace

extern const DialectKind kStytchDialect{
    "stytch", [](const DialectSetup&) -> std::unique_ptr<Dialect> { return std::make_unique<Stytch>(); }, apply_settings, settings_json,
    validate_settings};

}  // namespace otp::mock
