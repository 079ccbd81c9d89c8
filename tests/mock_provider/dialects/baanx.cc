// Baanx's login (providers.md "Baanx"): x-client-key and x-us-env headers;
// 1. POST /v1/auth/login {email,password} says whether a code is needed
//    and sends nothing; 2. POST /v1/auth/login/otp {userId} sends it;
// 3. POST /v1/auth/login {email,password,otpCode} returns the token.
// Sources: no Baanx SDK can be run; the request and answer shapes are
// Baanx's API documentation as shared/providers.md records it. Lockout and
// expiry signalling is unconfirmed there; the mock's 429 for a lockout and
// 400 "Invalid OTP code" for a wrong code are that reading.
#include <algorithm>
#include <map>

#include "dialects/code_book.h"
#include "dialects/dialect.h"
#include "dialects/dialect_util.h"
#include "dialects/settings_json.h"
#include "mask.h"
#include "mock_json.h"
#include "otp_random.h"

namespace otp::mock {
namespace {

using Req = httplib::Request;

Reply message(int status, const std::string& text) {
  Json::Value v(Json::objectValue);
  v["message"] = text;
  return json_reply(status, v);
}

// Unconfirmed: 429 once max_failures wrong codes have locked the user.
Reply too_many() { return message(429, "Too many attempts"); }

std::optional<Reply> check_headers(const Req& req, const BaanxSettings& s) {
  if (req.get_header_value("x-client-key") != s.client_key)
    return message(401, "Invalid client key");
  const std::string env = req.get_header_value("x-us-env");
  if (env != "true" && env != "false") return message(400, "Invalid x-us-env header");
  return std::nullopt;
}

class Baanx final : public Dialect {
 public:
  std::vector<DialectRoute> routes() override {
    return {
        {"/v1/auth/login", [this](const Req& req, DialectContext& ctx) { return login(req, ctx); }},
        {"/v1/auth/login/otp",
         [this](const Req& req, DialectContext& ctx) { return send(req, ctx); }}};
  }
  void expire_codes() override { codes_.expire_all(); }
  void reset() override {
    codes_.clear();
    locks_.clear();
  }

 private:
  Reply login(const Req& req, DialectContext& ctx);
  Reply send(const Req& req, DialectContext& ctx);
  Reply check_code(const std::string& user_id, const std::string& code, DialectContext& ctx);
  Reply logged_in(const std::string& email, const BaanxUser& u, bool token);
  const std::string& user_id(const std::string& email);

  std::map<std::string, std::string> ids_;  // e-mail -> userId: account data, kept
  CodeBook codes_;                          // by userId
  FailureLocks locks_;                      // by userId
};

const std::string& Baanx::user_id(const std::string& email) {
  auto it = ids_.find(email);
  if (it == ids_.end()) it = ids_.emplace(email, random_uuid()).first;
  return it->second;
}

Reply Baanx::logged_in(const std::string& email, const BaanxUser& u, bool token) {
  Json::Value v(Json::objectValue);
  v["userId"] = user_id(email);
  // Once the code has been checked nothing more is required.
  v["isOtpRequired"] = !token;
  v["phoneNumber"] = mask_destination(u.phone);
  v["accessToken"] = token ? Json::Value("baanx-access-" + random_hex(24)) : Json::Value();
  return json_reply(200, v);
}

Reply Baanx::login(const Req& req, DialectContext& ctx) {
  const BaanxSettings& s = ctx.dialects().baanx;
  if (auto r = check_headers(req, s)) return *r;
  const auto body = parse_object(req.body);
  const std::string email = body ? string_field(*body, "email") : "";
  const std::string password = body ? string_field(*body, "password") : "";
  if (email.empty() || password.empty()) return message(400, "email and password are required");
  const auto u = s.users.find(email);
  if (u == s.users.end()) return message(404, "User not found");
  if (password != u->second.password) return message(401, "Invalid credentials");
  if (!u->second.otp_required) return logged_in(email, u->second, true);
  if (!body->isMember("otpCode")) return logged_in(email, u->second, false);  // step 1

  const Reply checked = check_code(user_id(email), string_field(*body, "otpCode"), ctx);
  return checked.status == 200 ? logged_in(email, u->second, true) : checked;
}

Reply Baanx::check_code(const std::string& id, const std::string& code, DialectContext& ctx) {
  if (locks_.locked(id, ctx.now())) return too_many();
  const CodeCheck check = codes_.check(id, code, ctx.now());
  if (check == CodeCheck::ok) {
    locks_.succeed(id);
    return json_reply(200, Json::Value(Json::objectValue));
  }
  const MockSettings& m = ctx.mock_settings();
  // Like the generic API, the wrong code that reaches max_failures locks.
  const bool counts = check == CodeCheck::wrong || check == CodeCheck::none;
  if (counts && locks_.fail(id, m.max_failures, std::chrono::seconds(m.lock_seconds), ctx.now()))
    return too_many();
  // Expired and used codes are refused like wrong ones (unconfirmed).
  return message(400, "Invalid OTP code");
}

Reply Baanx::send(const Req& req, DialectContext& ctx) {
  const BaanxSettings& s = ctx.dialects().baanx;
  if (auto r = check_headers(req, s)) return *r;
  const auto body = parse_object(req.body);
  const std::string id = body ? string_field(*body, "userId") : "";
  if (id.empty()) return message(400, "userId is required");
  Json::Value v(Json::objectValue);
  v["success"] = false;
  // Only users who have logged in (step 1) have a userId to give.
  const auto known =
      std::find_if(ids_.begin(), ids_.end(), [&](const auto& entry) { return entry.second == id; });
  const auto u = known == ids_.end() ? s.users.end() : s.users.find(known->first);
  if (u == s.users.end()) return json_reply(200, v);
  if (locks_.locked(id, ctx.now())) return too_many();

  const std::string code = ctx.new_code();
  codes_.issue(id, code, ctx.now() + std::chrono::seconds(ctx.mock_settings().code_ttl_seconds));
  ctx.deliver(Delivery{u->first, "sms", u->second.phone, code, id});
  v["success"] = true;
  return json_reply(200, v);
}


void apply_settings(const Json::Value& o, Dialects& d) {
  read_string(o, "client_key", d.baanx.client_key);
  read_map(o, "users", d.baanx.users, [](const Json::Value& u, BaanxUser& out) {
    read_string(u, "password", out.password);
    read_string(u, "phone", out.phone);
    read_bool(u, "otp_required", out.otp_required);
  });
}

Json::Value settings_json(const Dialects& d) {
  Json::Value v(Json::objectValue);
  v["client_key"] = d.baanx.client_key;
  v["users"] = Json::Value(Json::objectValue);
  for (const auto& [email, u] : d.baanx.users) {
    v["users"][email]["password"] = u.password;
    v["users"][email]["phone"] = u.phone;
    v["users"][email]["otp_required"] = u.otp_required;
  }
  return v;
}

void validate_settings(const Dialects& d) {
  require_field(!d.baanx.client_key.empty(), "client_key");
  for (const auto& [email, u] : d.baanx.users) require_field(is_email(email) && is_e164(u.phone), "users");
}

}  // namespace

extern const DialectKind kBaanxDialect{
    "baanx", [](const DialectSetup&) -> std::unique_ptr<Dialect> { return std::make_unique<Baanx>(); }, apply_settings, settings_json,
    validate_settings};

}  // namespace otp::mock
