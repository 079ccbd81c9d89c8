// Twilio Verify v2 (providers.md "Twilio Verify"): HTTP Basic
// AccountSid:AuthToken, form-encoded requests, JSON answers. A wrong code
// is a 200 with "status":"pending". As at Twilio, a send to a number whose
// verification is still pending re-sends the same code under the same sid
// (counted against max_send_attempts) instead of starting a new one.
// Sources: requests as the twilio Node SDK 5.13 sends them and the
// VerificationCheck statuses it names (tests/conformance); error codes and
// statuses from Twilio's error reference (the SDK names none of them).
#include <algorithm>
#include <climits>
#include <map>

#include "dialects/code_book.h"
#include "dialects/dialect.h"
#include "dialects/dialect_util.h"
#include "dialects/settings_json.h"
#include "mock_json.h"
#include "otp_random.h"

namespace otp::mock {
namespace {

using Req = httplib::Request;
using Form = std::map<std::string, std::string>;

constexpr auto kLifetime = std::chrono::minutes(10);  // fixed at Twilio

Reply error(int status, int code, const std::string& message) {
  Json::Value v(Json::objectValue);
  v["code"] = code;
  v["message"] = message;
  v["more_info"] = "https://www.twilio.com/docs/errors/" + std::to_string(code);
  v["status"] = status;
  return json_reply(status, v);
}

Reply invalid(const std::string& what) { return error(400, 60200, "Invalid parameter: " + what); }

Reply not_found(const Req& req) {
  return error(404, 20404, "The requested resource " + req.path + " was not found");
}

bool valid_to(const std::string& to, const std::string& channel) {
  return channel == "email" ? is_email(to) : is_e164(to);
}

bool valid_channel(const std::string& c) {
  return c == "sms" || c == "call" || c == "email" || c == "whatsapp";
}

struct Verification {
  std::string sid, to, channel, code, created;
  Clock::time_point expires;
  Json::Value attempts{Json::arrayValue};  // send_code_attempts
  int sends = 0, failed_checks = 0;
  bool approved = false, expired = false;

  bool live(Clock::time_point now) const { return !approved && !expired && now < expires; }
};

Json::Value describe(const Verification& v, const TwilioSettings& s) {
  Json::Value j(Json::objectValue);
  j["sid"] = v.sid;
  j["service_sid"] = s.service_sid;
  j["account_sid"] = s.account_sid;
  j["to"] = v.to;
  j["channel"] = v.channel;
  j["status"] = v.approved ? "approved" : "pending";
  j["valid"] = v.approved;
  j["amount"] = Json::nullValue;
  j["payee"] = Json::nullValue;
  j["date_created"] = v.created;
  j["date_updated"] = iso8601_utc(std::chrono::system_clock::now());
  return j;
}

class Twilio final : public Dialect {
 public:
  std::vector<DialectRoute> routes() override {
    return {{"/v2/Services/([^/]+)/Verifications",
             [this](const Req& req, DialectContext& ctx) { return with_form(req, ctx, true); }},
            {"/v2/Services/([^/]+)/VerificationCheck",
             [this](const Req& req, DialectContext& ctx) { return with_form(req, ctx, false); }}};
  }
  void expire_codes() override {
    for (auto& [sid, v] : by_sid_) v.expired = true;
  }
  void reset() override {
    by_sid_.clear();
    by_to_.clear();
  }

 private:
  Reply with_form(const Req& req, DialectContext& ctx, bool send);
  Reply send(const Form& form, DialectContext& ctx);
  Reply resend(Verification& v, const std::string& channel, DialectContext& ctx);
  Reply check(const Req& req, const Form& form, DialectContext& ctx);
  Verification* pending_for(const std::string& to, Clock::time_point now);

  std::map<std::string, Verification> by_sid_;
  std::map<std::string, std::string> by_to_;  // To -> sid of its latest verification
};

// Credentials, service and body shape, which both calls check first.
Reply Twilio::with_form(const Req& req, DialectContext& ctx, bool is_send) {
  const TwilioSettings& s = ctx.dialects().twilio;
  const auto creds = basic_auth(req);
  if (!creds || creds->user != s.account_sid || creds->password != s.auth_token)
    return error(401, 20003, "Authenticate");
  if (std::string(req.matches[1]) != s.service_sid) return not_found(req);
  if (media_type(req) != "application/x-www-form-urlencoded") return invalid("Content-Type");
  const auto form = parse_form(req.body);
  if (!form) return invalid("body");
  return is_send ? send(*form, ctx) : check(req, *form, ctx);
}

Verification* Twilio::pending_for(const std::string& to, Clock::time_point now) {
  const auto sid = by_to_.find(to);
  if (sid == by_to_.end()) return nullptr;
  Verification& v = by_sid_.at(sid->second);
  return v.live(now) ? &v : nullptr;
}

Reply Twilio::resend(Verification& v, const std::string& channel, DialectContext& ctx) {
  const TwilioSettings& s = ctx.dialects().twilio;
  if (v.sends >= s.max_send_attempts) {
    Reply r = error(429, 60203, "Max send attempts reached");
    r.retry_after = seconds_until(v.expires, ctx.now());  // the verification's end
    return r;
  }
  ++v.sends;
  v.channel = channel;
  Json::Value attempt(Json::objectValue);
  attempt["attempt_sid"] = "VL" + random_hex(16);
  attempt["channel"] = channel;
  attempt["time"] = iso8601_utc(std::chrono::system_clock::now());
  v.attempts.append(attempt);
  ctx.deliver(Delivery{v.to, channel, v.to, v.code, v.sid});
  Json::Value body = describe(v, s);
  body["send_code_attempts"] = v.attempts;
  body["lookup"] = Json::Value(Json::objectValue);
  body["url"] =
      "https://verify.twilio.com/v2/Services/" + s.service_sid + "/Verifications/" + v.sid;
  return json_reply(201, body);
}

Reply Twilio::send(const Form& form, DialectContext& ctx) {
  const auto to = form.find("To");
  const auto channel = form.find("Channel");
  if (channel == form.end() || !valid_channel(channel->second)) return invalid("Channel");
  if (to == form.end() || !valid_to(to->second, channel->second)) return invalid("To");
  const auto& refused = ctx.dialects().twilio.invalid_numbers;
  if (std::find(refused.begin(), refused.end(), to->second) != refused.end())
    return error(400, 60200, "Invalid parameter `To`: " + to->second);  // Twilio's words, the number included
  if (Verification* v = pending_for(to->second, ctx.now())) return resend(*v, channel->second, ctx);

  Verification v;
  v.sid = "VE" + random_hex(16);
  v.to = to->second;
  v.code = ctx.new_code();
  v.created = iso8601_utc(std::chrono::system_clock::now());
  v.expires = ctx.now() + kLifetime;
  by_to_[v.to] = v.sid;
  return resend(by_sid_.emplace(v.sid, v).first->second, channel->second, ctx);
}

Reply Twilio::check(const Req& req, const Form& form, DialectContext& ctx) {
  const TwilioSettings& s = ctx.dialects().twilio;
  const auto code = form.find("Code");
  if (code == form.end() || code->second.empty()) return invalid("Code");
  const auto sid = form.find("VerificationSid");
  const auto to = form.find("To");
  if (sid == form.end() && to == form.end()) return invalid("To or VerificationSid");
  Verification* v = nullptr;
  if (sid != form.end()) {
    const auto it = by_sid_.find(sid->second);
    v = it != by_sid_.end() && it->second.live(ctx.now()) ? &it->second : nullptr;
  } else {
    v = pending_for(to->second, ctx.now());
  }
  // Approved, expired and unknown verifications are all gone at Twilio.
  if (v == nullptr) return not_found(req);
  if (v->failed_checks >= s.max_check_attempts) {
    Reply r = error(429, 60202, "Max check attempts reached");
    r.retry_after = seconds_until(v->expires, ctx.now());
    return r;
  }
  if (code->second == v->code)
    v->approved = true;
  else
    ++v->failed_checks;
  Json::Value body = describe(*v, s);
  body["sna_attempts_error_codes"] = Json::Value(Json::arrayValue);
  return json_reply(200, body);
}


void apply_settings(const Json::Value& o, Dialects& d) {
  read_string(o, "account_sid", d.twilio.account_sid);
  read_string(o, "auth_token", d.twilio.auth_token);
  read_string(o, "service_sid", d.twilio.service_sid);
  read_int(o, "max_check_attempts", d.twilio.max_check_attempts, 1, INT_MAX);
  read_int(o, "max_send_attempts", d.twilio.max_send_attempts, 1, INT_MAX);
  read_string_list(o, "invalid_numbers", d.twilio.invalid_numbers);
}

Json::Value settings_json(const Dialects& d) {
  Json::Value v(Json::objectValue);
  v["account_sid"] = d.twilio.account_sid;
  v["auth_token"] = d.twilio.auth_token;
  v["service_sid"] = d.twilio.service_sid;
  v["max_check_attempts"] = d.twilio.max_check_attempts;
  v["max_send_attempts"] = d.twilio.max_send_attempts;
  v["invalid_numbers"] = list_json(d.twilio.invalid_numbers);
  return v;
}

void validate_settings(const Dialects& d) {
  require_field(!d.twilio.account_sid.empty() && !d.twilio.auth_token.empty() && !d.twilio.service_sid.empty(),
                "credentials");
  require_field(d.twilio.max_check_attempts >= 1, "max_check_attempts");
  require_field(d.twilio.max_send_attempts >= 1, "max_send_attempts");
}

}  // namespace

extern const DialectKind kTwilioDialect{
    "twilio", [](const DialectSetup&) -> std::unique_ptr<Dialect> { return std::make_unique<Twilio>(); }, apply_settings, settings_json,
    validate_settings};

}  // namespace otp::mock
