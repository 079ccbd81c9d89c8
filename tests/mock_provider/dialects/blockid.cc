// 1Kosmos BlockID's OTP API (providers.md "1Kosmos BlockID"). Every call
// carries the caller's public key and two headers encrypted with the ECDH
// secret between it and the community key; the mock really decrypts them,
// so a client with wrong crypto fails here as it would at BlockID.
// Sources: 1Kosmos's own helpers (blockid-nodejs-helpers: the crypto, the
// request and answer shapes, 200 or 202 from generate, {error_code,
// message, status} answers) as shared/providers.md records them.
#include <map>

#include "dialects/blockid_crypto.h"
#include "dialects/code_book.h"
#include "dialects/dialect.h"
#include "dialects/dialect_util.h"
#include "dialects/settings_json.h"
#include "mock_json.h"

namespace otp::mock {
namespace {

using Req = httplib::Request;

// BlockID's fixed policy: more than 5 wrong codes within 30 minutes lock
// the user for 15 minutes.
constexpr int kMaxWrong = 5;
constexpr auto kWrongWindow = std::chrono::minutes(30);
constexpr auto kLockTime = std::chrono::minutes(15);
constexpr long long kClockSkewSeconds = 60;

Reply error(int status, const std::string& message) {
  Json::Value v(Json::objectValue);
  v["error_code"] = status;
  v["message"] = message;
  v["status"] = false;
  return json_reply(status, v);
}

Reply locked() { return error(403, "OTP request locked for the user."); }

// requestid's plaintext: {"ts":<epoch s>,"appid":"…","uuid":"…"}.
std::optional<Reply> check_request_id(const std::string& plaintext) {
  const auto id = parse_object(plaintext);
  if (!id || !(*id)["ts"].isInt64() || string_field(*id, "uuid").empty() ||
      string_field(*id, "appid").empty())
    return error(401, "Invalid request id");
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const long long ts = (*id)["ts"].asInt64();
  if (ts < now - kClockSkewSeconds || ts > now + kClockSkewSeconds)
    return error(401, "Request id expired");
  return std::nullopt;
}

// The 401 that the publickey, licensekey and requestid headers earn, if any.
std::optional<Reply> check_headers(const Req& req, const CommunityKey& community,
                                   const BlockIdSettings& s) {
  for (const char* name : {"publickey", "licensekey", "requestid"})
    if (req.get_header_value(name).empty())
      return error(401, std::string("Missing header: ") + name);
  const auto xy = base64_decode(req.get_header_value("publickey"));
  const auto caller = xy ? EcKey::from_public(*xy) : std::nullopt;
  if (!caller) return error(401, "Invalid public key");
  const std::string key = community.shared_secret(*caller);
  const auto license = blockid_decrypt(key, req.get_header_value("licensekey"));
  if (!license || *license != s.license_key) return error(401, "Invalid license key");
  const auto request_id = blockid_decrypt(key, req.get_header_value("requestid"));
  if (!request_id) return error(401, "Invalid request id");
  return check_request_id(*request_id);
}

// Headers, then body shape and tenant, which both calls check first.
std::optional<Reply> refusal(const Req& req, const CommunityKey& community,
                             const BlockIdSettings& s, const std::optional<Json::Value>& body) {
  if (auto r = check_headers(req, community, s)) return r;
  if (!body) return error(400, "Invalid request body");
  if (string_field(*body, "tenantId") != s.tenant_id ||
      string_field(*body, "communityId") != s.community_id)
    return error(400, "Unable to load tenant/community");
  if (string_field(*body, "userId").empty()) return error(400, "userId is required");
  return std::nullopt;
}

// Where generate sends the code: "+<isd><national>" and/or the e-mail.
// nullopt if the destinations are malformed or missing.
std::optional<std::vector<std::pair<std::string, std::string>>> destinations(const Json::Value& b) {
  std::vector<std::pair<std::string, std::string>> out;  // channel, to
  const bool has_sms = b.isMember("smsTo") || b.isMember("smsISDCode");
  if (has_sms) {
    const std::string national = string_field(b, "smsTo"), isd = string_field(b, "smsISDCode");
    if (!is_digits(national) || !is_digits(isd) || !is_e164("+" + isd + national))
      return std::nullopt;
    out.emplace_back("sms", "+" + isd + national);
  }
  if (b.isMember("emailTo")) {
    if (!is_email(string_field(b, "emailTo"))) return std::nullopt;
    out.emplace_back("email", string_field(b, "emailTo"));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

class BlockId final : public Dialect {
 public:
  explicit BlockId(const CommunityKey& key) : community_(key) {}
  std::vector<DialectRoute> routes() override {
    return {{"/api/r2/otp/generate",
             [this](const Req& req, DialectContext& ctx) { return generate(req, ctx); }},
            {"/api/r2/otp/verify",
             [this](const Req& req, DialectContext& ctx) { return verify(req, ctx); }}};
  }
  void expire_codes() override { codes_.expire_all(); }
  void reset() override {
    codes_.clear();
    locks_.clear();
  }

 private:
  Reply generate(const Req& req, DialectContext& ctx);
  Reply verify(const Req& req, DialectContext& ctx);

  const CommunityKey& community_;
  CodeBook codes_;      // by userId
  FailureLocks locks_;  // by userId
};

Reply BlockId::generate(const Req& req, DialectContext& ctx) {
  const BlockIdSettings& s = ctx.dialects().blockid;
  const auto body = parse_object(req.body);
  if (auto r = refusal(req, community_, s, body)) return *r;
  const std::string user = string_field(*body, "userId");
  if (locks_.locked(user, ctx.now())) return locked();
  const auto to = destinations(*body);
  if (!to) return error(400, "Invalid or missing smsTo/smsISDCode or emailTo");

  const std::string code = ctx.new_code();
  const std::string message_id = random_uuid();
  codes_.issue(user, code, ctx.now() + std::chrono::seconds(ctx.mock_settings().code_ttl_seconds));
  for (const auto& [channel, address] : *to)
    ctx.deliver(Delivery{user, channel, address, code, message_id});
  Json::Value v(Json::objectValue);
  v["messageId"] = message_id;
  v["info"] = "OTP request accepted";
  return json_reply(s.generate_status, v);
}

Reply BlockId::verify(const Req& req, DialectContext& ctx) {
  const BlockIdSettings& s = ctx.dialects().blockid;
  const auto body = parse_object(req.body);
  if (auto r = refusal(req, community_, s, body)) return *r;
  const std::string user = string_field(*body, "userId");
  const std::string code = string_field(*body, "code");
  if (code.empty()) return error(400, "code is required");
  if (locks_.locked(user, ctx.now())) return locked();

  switch (codes_.check(user, code, ctx.now())) {
    case CodeCheck::ok: {
      locks_.succeed(user);
      Json::Value v(Json::objectValue);
      v["error_code"] = 0;
      v["message"] = "";
      v["status"] = s.status_as_string ? Json::Value("true") : Json::Value(true);
      return json_reply(200, v);
    }
    case CodeCheck::used:
      return error(409, "OTP already used.");
    case CodeCheck::expired:
      return error(410, "OTP expired.");
    case CodeCheck::wrong:
    case CodeCheck::none:
      break;
  }
  // The wrong code that is one more than kMaxWrong is itself refused as locked.
  if (locks_.fail(user, kMaxWrong + 1, kLockTime, ctx.now(), kWrongWindow)) return locked();
  return error(404, "Invalid OTP.");
}


void apply_settings(const Json::Value& o, Dialects& d) {
  read_string(o, "tenant_id", d.blockid.tenant_id);
  read_string(o, "community_id", d.blockid.community_id);
  read_string(o, "license_key", d.blockid.license_key);
  read_bool(o, "status_as_string", d.blockid.status_as_string);
  read_int(o, "generate_status", d.blockid.generate_status, 200, 202);
}

Json::Value settings_json(const Dialects& d) {
  Json::Value v(Json::objectValue);
  v["tenant_id"] = d.blockid.tenant_id;
  v["community_id"] = d.blockid.community_id;
  v["license_key"] = d.blockid.license_key;
  v["generate_status"] = d.blockid.generate_status;
  v["status_as_string"] = d.blockid.status_as_string;
  return v;
}

void validate_settings(const Dialects& d) {
  require_field(!d.blockid.tenant_id.empty() && !d.blockid.community_id.empty() && !d.blockid.license_key.empty(),
                "ids");
}

}  // namespace

extern const DialectKind kBlockIdDialect{"blockid",
                                           [](const DialectSetup& setup) -> std::unique_ptr<Dialect> {
                                             return std::make_unique<BlockId>(setup.community);
                                           },
                                           apply_settings, settings_json, validate_settings};

}  // namespace otp::mock
