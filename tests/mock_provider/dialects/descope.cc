// Descope's OTP sign-in (providers.md "Descope"): Bearer <ProjectID> (or
// <ProjectID>:<management key>), sign-in sends a code to an existing
// user's e-mail or phone (sign-up-or-in creates the user first), verify
// exchanges it for session tokens: a sessionJwt signed RS256 by the key the
// project publishes at /v2/keys/<ProjectID>. Request shapes and errors as
// @descope/node-sdk 2.13 sends and names them (tests/conformance).
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>

#include "dialects/code_book.h"
#include "dialects/dialect.h"
#include "dialects/dialect_util.h"
#include "dialects/settings_json.h"
#include "dialects/session_jwt.h"
#include "mock_json.h"
#include "otp_random.h"

namespace otp::mock {
namespace {

using Req = httplib::Request;

constexpr char kMethods[] = "(email|sms|voice|whatsapp)";

Reply error(int status, const std::string& code, const std::string& description,
            const std::string& message) {
  Json::Value v(Json::objectValue);
  v["errorCode"] = code;
  v["errorDescription"] = description;
  v["errorMessage"] = message;
  return json_reply(status, v);
}

Reply invalid(const std::string& message) {
  return error(400, "E011003", "Request is invalid", message);
}

Reply locked() {
  // The status is unconfirmed. 403, not 429: a lockout is no rate limit,
  // and a client must not wait and retry it like one.
  return error(403, "E061103", "Too many OTP attempts", "Too many wrong codes; try again later");
}

bool authorized(const Req& req, const DescopeSettings& s) {
  const auto token = bearer_token(req);
  const std::string expected =
      s.management_key.empty() ? s.project_id : s.project_id + ":" + s.management_key;
  return token && *token == expected;
}

bool known(const DescopeSettings& s, const std::string& login_id) {
  const auto& list = s.known_login_ids;
  return list.empty() || std::find(list.begin(), list.end(), login_id) != list.end();
}

// Where a method's code goes for this login id; "" if the user has no
// such address.
std::string destination(const DescopeSettings& s, const std::string& login_id,
                        const std::string& method) {
  const bool email = method == "email";
  const auto& map = email ? s.emails : s.phones;
  if (const auto it = map.find(login_id); it != map.end()) return it->second;
  return (email ? is_email(login_id) : is_e164(login_id)) ? login_id : "";
}

// Descope shows all but the last four digits as '*', keeping the '+'.
std::string mask_phone(const std::string& phone) {
  const std::size_t keep = std::min<std::size_t>(4, phone.size() - 1);
  return "+" + std::string(phone.size() - 1 - keep, '*') + phone.substr(phone.size() - keep);
}

std::string mask_email(const std::string& email) {
  const auto at = email.find('@');
  return email.substr(0, 1) + "***" + email.substr(at);
}

// Descope's user id for a login id: the settings', else stable, "U2" and a
// digest of it.
std::string user_id(const DescopeSettings& s, const std::string& login_id) {
  if (const auto it = s.user_ids.find(login_id); it != s.user_ids.end()) return it->second;
  std::size_t h = std::hash<std::string>{}(login_id);
  return "U2" + std::to_string(h);
}

// A verify's answer: the session, its JWT as the settings say, the user.
Reply session(const std::string& login_id, const DescopeSettings& s, const SessionSigner& key,
              const SessionSigner& other_key) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  Json::Value claims(Json::objectValue);
  const bool replayed = s.session == "replayed";
  const std::string subject = s.session == "other_user" || replayed ? user_id(s, login_id + "-other") : user_id(s, login_id);
  claims["sub"] = subject;
  claims["iss"] = s.session == "other_project" ? "https://api.descope.com/P2otherPROJECT000000000000000" : s.project_id;
  claims["iat"] = static_cast<Json::Int64>(s.session == "stale" ? now - 3600 : now);
  claims["exp"] = static_cast<Json::Int64>(s.session == "expired" ? now - 3600 : now + 600);
  claims["drn"] = "DS";
  Json::Value v(Json::objectValue);
  v["sessionJwt"] = s.session == "opaque" ? "descope-session-" + random_hex(24)
                                          : (s.session == "forged" || s.session == "own_keys" ? other_key : key).sign(claims);
  v["refreshJwt"] = "descope-refresh-" + random_hex(24);
  v["firstSeen"] = false;
  Json::Value user(Json::objectValue);
  user["userId"] = replayed ? subject : user_id(s, login_id);
  user["loginIds"].append(login_id);
  v["user"] = user;
  return json_reply(200, v);
}

class Descope final : public Dialect {
 public:
  std::vector<DialectRoute> routes() override {
    return {{std::string("/v1/auth/otp/signin/") + kMethods,
             [this](const Req& req, DialectContext& ctx) { return signin(req, ctx, false); }},
            {std::string("/v1/auth/otp/signup-in/") + kMethods,
             [this](const Req& req, DialectContext& ctx) { return signin(req, ctx, true); }},
            {std::string("/v1/auth/otp/verify/") + kMethods,
             [this](const Req& req, DialectContext& ctx) { return verify(req, ctx); }},
            {"/v2/keys/([A-Za-z0-9]+)",
             [this](const Req& req, DialectContext& ctx) { return keys(req, ctx); }, "GET"}};
  }
  void expire_codes() override { codes_.expire_all(); }
  void reset() override {
    codes_.clear();
    methods_.clear();
    locks_.clear();
    sends_.clear();
    signed_up_.clear();
  }

 private:
  Reply signin(const Req& req, DialectContext& ctx, bool sign_up);
  Reply verify(const Req& req, DialectContext& ctx);
  Reply keys(const Req& req, DialectContext& ctx) const;
  std::optional<Reply> refusal(const Req& req, const DescopeSettings& s,
                               const Json::Value* body) const;

  SessionSigner key_, other_key_;                 // the project's key, and one nobody published
  std::vector<std::string> signed_up_;            // login ids sign-up-or-in created
  CodeBook codes_;                              // by login id: one live code each
  std::map<std::string, std::string> methods_;  // login id -> the method of that code
  FailureLocks locks_;                          // by login id
  SendWindow sends_;                            // by destination
};

// The checks sign-in and verify share: credentials, body, a known loginId.
std::optional<Reply> Descope::refusal(const Req& req, const DescopeSettings& s,
                                      const Json::Value* body) const {
  if (!authorized(req, s))
    return error(401, "E011002", "Unauthorized", "Project ID or management key is invalid");
  if (body == nullptr) return invalid("The request body is not a JSON object");
  const std::string login_id = string_field(*body, "loginId");
  if (login_id.empty()) return invalid("The loginId field is required");
  if (!known(s, login_id) && std::find(signed_up_.begin(), signed_up_.end(), login_id) == signed_up_.end())
    return error(400, "E062108", "User not found", "Cannot find user");
  return std::nullopt;
}

Reply Descope::keys(const Req& req, DialectContext& ctx) const {
  if (std::string(req.matches[1]) != ctx.dialects().descope.project_id)
    return error(400, "E011003", "Request is invalid", "Unknown project");
  return json_reply(200, (ctx.dialects().descope.session == "own_keys" ? other_key_ : key_).jwks());
}

Reply Descope::signin(const Req& req, DialectContext& ctx, bool sign_up) {
  const DescopeSettings& s = ctx.dialects().descope;
  const auto body = parse_object(req.body);
  // Sign-up-or-in creates a user Descope does not know yet.
  if (sign_up && body && authorized(req, s)) {
    const std::string id = string_field(*body, "loginId");
    if (!id.empty() && !known(s, id)) signed_up_.push_back(id);
  }
  if (auto r = refusal(req, s, body ? &*body : nullptr)) return *r;
  const std::string login_id = string_field(*body, "loginId");
  const std::string method = req.matches[1];
  const std::string to = destination(s, login_id, method);
  if (to.empty())
    return invalid("The user has no " + std::string(method == "email" ? "e-mail" : "phone"));
  if (locks_.locked(login_id, ctx.now())) return locked();
  const MockSettings& m = ctx.mock_settings();
  if (const int wait = sends_.try_send(to, m.max_sends, m.send_window_seconds, ctx.now())) {
    Reply r = error(429, "E130429", "Too many requests", "Rate limit exceeded");
    r.retry_after = wait;
    return r;
  }
  const std::string code = ctx.new_code();
  codes_.issue(login_id, code, ctx.now() + std::chrono::seconds(m.code_ttl_seconds));
  methods_[login_id] = method;
  ctx.deliver(Delivery{login_id, method, to, code, login_id});
  Json::Value v(Json::objectValue);
  if (method == "email")
    v["maskedEmail"] = mask_email(to);
  else
    v["maskedPhone"] = mask_phone(to);
  return json_reply(200, v);
}

Reply Descope::verify(const Req& req, DialectContext& ctx) {
  const DescopeSettings& s = ctx.dialects().descope;
  const auto body = parse_object(req.body);
  if (auto r = refusal(req, s, body ? &*body : nullptr)) return *r;
  const std::string login_id = string_field(*body, "loginId");
  const std::string code = string_field(*body, "code");
  if (code.empty()) return invalid("The code field is required");
  if (locks_.locked(login_id, ctx.now())) return locked();

  // A code sent by another method does not verify here.
  const auto sent_by = methods_.find(login_id);
  const bool same_method =
      sent_by != methods_.end() && sent_by->second == std::string(req.matches[1]);
  const CodeCheck check = same_method ? codes_.check(login_id, code, ctx.now()) : CodeCheck::wrong;
  if (check == CodeCheck::ok) {
    locks_.succeed(login_id);
    return session(login_id, s, key_, other_key_);
  }
  const MockSettings& m = ctx.mock_settings();
  const bool counts = check == CodeCheck::wrong || check == CodeCheck::none;
  // Like the generic API, the failure that reaches max_failures locks.
  if (counts &&
      locks_.fail(login_id, m.max_failures, std::chrono::seconds(m.lock_seconds), ctx.now()))
    return locked();
  // Wrong, expired and used codes look alike to the client.
  return error(401, "E061102", "Wrong OTP code", "The code is wrong or has expired");
}


void apply_settings(const Json::Value& o, Dialects& d) {
  read_string(o, "project_id", d.descope.project_id);
  read_string(o, "management_key", d.descope.management_key);
  read_string_list(o, "known_login_ids", d.descope.known_login_ids);
  read_string(o, "session", d.descope.session);
  read_string_map(o, "phones", d.descope.phones);
  read_string_map(o, "emails", d.descope.emails);
  read_string_map(o, "user_ids", d.descope.user_ids);
}

Json::Value settings_json(const Dialects& d) {
  Json::Value v(Json::objectValue);
  v["project_id"] = d.descope.project_id;
  v["session"] = d.descope.session;
  v["management_key"] = d.descope.management_key;
  v["known_login_ids"] = list_json(d.descope.known_login_ids);
  v["phones"] = map_json(d.descope.phones);
  v["emails"] = map_json(d.descope.emails);
  v["user_ids"] = map_json(d.descope.user_ids);
  return v;
}

void validate_settings(const Dialects& d) {
  require_field(!d.descope.project_id.empty(), "project_id");
  for (const auto& [id, phone] : d.descope.phones) require_field(is_e164(phone), "phones");
  for (const auto& [id, email] : d.descope.emails) require_field(is_email(email), "emails");
  const std::string& session = d.descope.session;
  require_field(session == "opaque" || session == "signed" || session == "forged" || session == "expired" ||
                    session == "other_user" || session == "replayed" || session == "own_keys" ||
                    session == "other_project" || session == "stale",
                "session");
}

}  // namespace

extern const DialectKind kDescopeDialect{
    "descope", [](const DialectSetup&) -> std::unique_ptr<Dialect> { return std::make_unique<Descope>(); }, apply_settings, settings_json,
    validate_settings};

}  // namespace otp::mock
