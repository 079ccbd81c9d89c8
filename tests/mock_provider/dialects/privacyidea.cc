// privacyIDEA's /validate/check (providers.md "privacyIDEA"), with an SMS
// token per user and maybe an e-mail token: the first leg (pass = PIN)
// triggers a challenge on every token, the second (transaction_id, pass =
// code) answers it. Wrong answers are HTTP 200 REJECTs; only server-side
// errors use another status (ERR904, an unknown user, is HTTP 400).
// Sources of each answer: the shapes and texts below are what a real
// privacyIDEA 3.11 server answered (shared/providers.md, "Checked on a real
// privacyIDEA 3.11"); no SDK exists to compare with.
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

constexpr char kChallengeMessage[] = "Please enter otp from your SMS";

// The envelope every privacyIDEA answer has.
Json::Value envelope(const Json::Value& result) {
  Json::Value v(Json::objectValue);
  v["id"] = 1;
  v["jsonrpc"] = "2.0";
  v["version"] = "privacyIDEA 3.9";
  v["time"] = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count()) /
              1000.0;
  v["result"] = result;
  return v;
}

Reply server_error(int code, const std::string& message) {
  Json::Value result(Json::objectValue);
  result["status"] = false;
  result["error"]["code"] = code;
  result["error"]["message"] = "ERR" + std::to_string(code) + ": " + message;
  return json_reply(400, envelope(result));
}

Reply outcome(const std::string& authentication, const Json::Value& detail) {
  Json::Value result(Json::objectValue);
  result["status"] = true;
  result["value"] = authentication == "ACCEPT";
  result["authentication"] = authentication;
  Json::Value v = envelope(result);
  v["detail"] = detail;
  return json_reply(200, v);
}

Reply with_message(const std::string& authentication, const std::string& message) {
  Json::Value detail(Json::objectValue);
  detail["message"] = message;
  return outcome(authentication, detail);
}

struct Params {
  std::optional<std::string> user, realm, pass, transaction_id;
};

// Form or JSON, as the client's Content-Type says. nullopt if unreadable.
std::optional<Params> read_params(const Req& req) {
  std::map<std::string, std::string> fields;
  if (media_type(req) == "application/json") {
    const auto body = parse_object(req.body);
    if (!body) return std::nullopt;
    for (const auto& name : body->getMemberNames())
      if ((*body)[name].isString()) fields[name] = (*body)[name].asString();
  } else if (auto form = parse_form(req.body)) {
    fields = std::move(*form);
  } else {
    return std::nullopt;
  }
  const auto get = [&](const char* name) -> std::optional<std::string> {
    const auto it = fields.find(name);
    return it == fields.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  return Params{get("user"), get("realm"), get("pass"), get("transaction_id")};
}

class PrivacyIdea final : public Dialect {
 public:
  std::vector<DialectRoute> routes() override {
    return {{"/validate/check",
             [this](const Req& req, DialectContext& ctx) { return check(req, ctx); }}};
  }
  void expire_codes() override { challenges_.expire_all(); }
  void reset() override {
    challenges_.clear();
    owners_.clear();
    failcounts_.clear();
  }

 private:
  Reply check(const Req& req, DialectContext& ctx);
  Reply challenge(const std::string& user, const PrivacyIdeaUser& u, DialectContext& ctx);
  Reply answer(const std::string& user, const Params& p, DialectContext& ctx);
  const std::string& serial(const std::string& user);

  CodeBook challenges_;                         // by transaction id
  std::map<std::string, std::string> owners_;   // transaction id -> user
  std::map<std::string, int> failcounts_;       // by user, until reset()
  std::map<std::string, std::string> serials_;  // by user: token data, kept
};

const std::string& PrivacyIdea::serial(const std::string& user) {
  auto it = serials_.find(user);
  if (it == serials_.end()) it = serials_.emplace(user, "PISM" + random_digits(8)).first;
  return it->second;
}

Reply PrivacyIdea::check(const Req& req, DialectContext& ctx) {
  const PrivacyIdeaSettings& s = ctx.dialects().privacyidea;
  const auto p = read_params(req);
  if (!p) return server_error(905, "Could not read the request parameters");
  if (!p->user || p->user->empty()) return server_error(905, "Missing parameter: 'user'");
  if (!p->pass) return server_error(905, "Missing parameter: 'pass'");
  const auto u = s.users.find(*p->user);
  // The user exists only in the realm configured for them ("" = default).
  if (u == s.users.end() || p->realm.value_or("") != u->second.realm) {
    if (s.pass_on_no_user)
      return with_message("ACCEPT", "The user does not exist, but is accepted due to policy 'passOnNoUser'.");
    return server_error(904, "The user can not be found in any resolver in this realm!");
  }
  if (p->transaction_id) return answer(*p->user, *p, ctx);
  if (u->second.phone.empty() && u->second.email.empty())
    return with_message("REJECT", "The user has no tokens assigned");
  if (u->second.disabled) return with_message("REJECT", "No active challenge response token found");
  if (failcounts_[*p->user] >= s.max_fail) return with_message("REJECT", "Failcounter exceeded");
  if (*p->pass != u->second.pin) {
    ++failcounts_[*p->user];  // IncFailCountOnFalsePin, on by default
    return with_message("REJECT", "wrong otp pin");
  }
  if (s.gateway_down)
    return with_message("REJECT", u->second.phone.empty() ? "The PIN was correct, but the EMail could not be sent!"
                                                          : "The PIN was correct, but the SMS could not be sent!");
  return challenge(*p->user, u->second, ctx);
}

Reply PrivacyIdea::challenge(const std::string& user, const PrivacyIdeaUser& u,
                             DialectContext& ctx) {
  const std::string tx = random_digits(20);
  const std::string code = ctx.new_code();
  challenges_.issue(tx, code,
                    ctx.now() + std::chrono::seconds(ctx.mock_settings().code_ttl_seconds));
  owners_[tx] = user;
  Json::Value detail(Json::objectValue);
  detail["transaction_id"] = tx;
  // One challenge per token, under one transaction id (the same code here).
  for (const auto& [type, to] : {std::pair<std::string, std::string>{"sms", u.phone}, {"email", u.email}}) {
    if (to.empty()) continue;
    ctx.deliver(Delivery{user, type, to, code, tx});
    const std::string message = type == "sms" ? kChallengeMessage : "Please enter the OTP from the email";
    Json::Value one(Json::objectValue);
    one["transaction_id"] = tx;
    one["message"] = message;
    one["client_mode"] = "interactive";
    one["type"] = type;
    one["serial"] = serial(user);
    detail["multi_challenge"].append(one);
    detail["transaction_ids"].append(tx);
    detail["messages"].append(message);
  }
  detail["message"] = detail["messages"][0];
  detail["serial"] = serial(user);
  detail["type"] = detail["multi_challenge"][0]["type"];
  return outcome("CHALLENGE", detail);
}

Reply PrivacyIdea::answer(const std::string& user, const Params& p, DialectContext& ctx) {
  const std::string& tx = *p.transaction_id;
  const auto owner = owners_.find(tx);
  // Another user's, unknown, expired and used challenges: all answered like
  // a wrong code, as privacyIDEA does ("Response did not match the challenge.").
  const bool mine = owner != owners_.end() && owner->second == user;
  const CodeCheck check = mine ? challenges_.check(tx, *p.pass, ctx.now()) : CodeCheck::wrong;
  if (check == CodeCheck::ok && failcounts_[user] >= ctx.dialects().privacyidea.max_fail)
    return with_message("REJECT", "Challenge matches, but token is not fit for challenge. Failcounter exceeded");
  if (check == CodeCheck::ok) {
    failcounts_[user] = 0;
    return with_message("ACCEPT", "matching 1 tokens");
  }
  ++failcounts_[user];
  return with_message("REJECT",
                      check == CodeCheck::expired ? "Response did not match the challenge." : "wrong otp value");
}


void apply_settings(const Json::Value& o, Dialects& d) {
  read_map(o, "users", d.privacyidea.users, [](const Json::Value& u, PrivacyIdeaUser& out) {
    read_string(u, "pin", out.pin);
    read_string(u, "realm", out.realm);
    read_string(u, "phone", out.phone);
    read_string(u, "email", out.email);
    read_bool(u, "disabled", out.disabled);
  });
  read_int(o, "max_fail", d.privacyidea.max_fail, 1, INT_MAX);
  read_bool(o, "pass_on_no_user", d.privacyidea.pass_on_no_user);
  read_bool(o, "gateway_down", d.privacyidea.gateway_down);
}

Json::Value settings_json(const Dialects& d) {
  Json::Value v(Json::objectValue);
  v["users"] = Json::Value(Json::objectValue);
  for (const auto& [name, u] : d.privacyidea.users) {
    v["users"][name]["pin"] = u.pin;
    v["users"][name]["realm"] = u.realm;
    v["users"][name]["phone"] = u.phone;
    v["users"][name]["email"] = u.email;
    v["users"][name]["disabled"] = u.disabled;
  }
  v["max_fail"] = d.privacyidea.max_fail;
  v["pass_on_no_user"] = d.privacyidea.pass_on_no_user;
  v["gateway_down"] = d.privacyidea.gateway_down;
  return v;
}

void validate_settings(const Dialects& d) {
  for (const auto& [name, u] : d.privacyidea.users)
    require_field(!name.empty() && (u.phone.empty() || is_e164(u.phone)) && (u.email.empty() || is_email(u.email)),
                  "users");
  require_field(d.privacyidea.max_fail >= 1, "max_fail");
}

}  // namespace

extern const DialectKind kPrivacyIdeaDialect{
    "privacyidea", [](const DialectSetup&) -> std::unique_ptr<Dialect> { return std::make_unique<PrivacyIdea>(); }, apply_settings, settings_json,
    validate_settings};

}  // namespace otp::mock
