// The 1Kosmos BlockID dialect over real TLS, with the encrypted headers
// built by the test client (blockid_client.h).
#include <regex>

#include "dialects/blockid_client.h"
#include "dialects/blockid_crypto.h"
#include "dialects/dialect_test_support.h"
#include "dialects/dialect_util.h"
#include "mock_json.h"
#include "test_env.h"

namespace {

using namespace otp::mock;
using namespace otp::mock::testing;

constexpr char kLicense[] = "blockid-test-license";

// Made by Node's crypto (createECDH('secp256k1'), aes-256-gcm), as the
// official helper uses it: community scalar 0x11×32, caller scalar 0x22×32,
// IV 00..0f, plaintext kLicense.
constexpr char kKatCommunityPrivate[] = "ERERERERERERERERERERERERERERERERERERERERERE=";
constexpr char kKatCommunityPublic[] =
    "TzVb3LfMCvco7zzOuWFdkGhLtbLKX4WasPC3BAdYcao4W2sbjq2AnKZ0VNloP88roDRW1v4sSr4rB/D727LxwQ==";
constexpr char kKatCallerPublic[] =
    "Rm1/yuVj5csJoNGHC7WANEgEYXh5oUlJzyIoXxuuPydnKBdsPGQx+O7aRTjcN8hl4nhPOp530ETzPkB3l+Enig==";
constexpr char kKatSharedHex[] = "77e0510d5042e2f5e9e59c977b81eeed590cf7d20c1c51da451a8eaa9fdc45ff";
constexpr char kKatEnvelope[] =
    "AAECAwQFBgcICQoLDA0ODzQIyUNSaA1466oi3/y9FBh7/1/qG4/PjjxNyhSSv6mT7herYg==";

std::string hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kHex[static_cast<unsigned char>(c) & 0xf]);
  }
  return out;
}

struct BlockId : DialectMock {
  BlockIdClient caller{mock.community_public_key()};
  std::vector<std::string> headers = caller.headers(kLicense, BlockIdClient::now());

  Json::Value body(const std::string& user = "alice") const {
    const BlockIdSettings s;
    return object({{"userId", user}, {"tenantId", s.tenant_id}, {"communityId", s.community_id}});
  }
  HttpResult call(const std::string& op, const Json::Value& b) {
    return client.request("POST", url("/api/r2/otp/" + op), to_text(b), headers);
  }
  HttpResult generate(const std::string& user = "alice") {
    Json::Value b = body(user);
    b["smsTo"] = "5551234567";
    b["smsISDCode"] = "1";
    return call("generate", b);
  }
  HttpResult verify(const std::string& code, const std::string& user = "alice") {
    Json::Value b = body(user);
    b["code"] = code;
    return call("verify", b);
  }
  std::string generated() {
    BOOST_TEST_REQUIRE(generate().status == 202);
    return code_for("+15551234567");
  }
  // The headers with one replaced.
  void replace_header(const std::string& name, const std::string& value) {
    for (auto& h : headers)
      if (h.rfind(name + ":", 0) == 0) h = name + ": " + value;
  }
};

void check_error(const HttpResult& r, int status, const std::string& message) {
  BOOST_TEST(r.status == status);
  BOOST_TEST(r.json()["error_code"].asInt() == status);
  BOOST_TEST(r.json()["message"].asString() == message);
  BOOST_TEST(r.json()["status"].isBool());
  BOOST_TEST(r.json()["status"].asBool() == false);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(blockid)

BOOST_AUTO_TEST_CASE(crypto_matches_node_known_answer) {
  const CommunityKey community(kKatCommunityPrivate);
  BOOST_TEST(community.public_key() == kKatCommunityPublic);
  const auto caller = EcKey::from_public(base64_decode(kKatCallerPublic).value());
  BOOST_TEST_REQUIRE(caller.has_value());
  const std::string key = community.shared_secret(*caller);
  BOOST_TEST(hex(key) == kKatSharedHex);
  BOOST_TEST(blockid_decrypt(key, kKatEnvelope).value_or("<none>") == kLicense);
  // Sealing with the same IV reproduces Node's bytes exactly.
  const std::string iv = base64_decode(kKatEnvelope).value().substr(0, 16);
  BOOST_TEST(base64_encode(gcm_seal(key, kLicense, iv)) == kKatEnvelope);
  // And a fixed key is honoured by the mock itself.
  MockOptions o;
  o.cert_file = shared_pki().server_cert;
  o.key_file = shared_pki().server_key;
  o.blockid_private_key = kKatCommunityPrivate;
  BOOST_TEST(MockProvider(o).community_public_key() == kKatCommunityPublic);
  o.blockid_private_key = base64_encode(std::string(32, '\0'));  // zero is no scalar
  BOOST_CHECK_THROW(MockProvider{o}, std::invalid_argument);
}

BOOST_FIXTURE_TEST_CASE(community_key_is_published, BlockId) {
  const std::string pub = mock.community_public_key();
  BOOST_TEST(pub.size() == 88u);
  BOOST_TEST(base64_decode(pub).value_or("").size() == 64u);
  BOOST_TEST(EcKey::from_public(base64_decode(pub).value()).has_value());
  const HttpResult d = client.get(url("/mock/dialects"));
  BOOST_TEST(d.json()["blockid"]["community_public_key"].asString() == pub);
  // Each mock makes its own key.
  DialectMock other;
  BOOST_TEST(other.mock.community_public_key() != pub);
}

BOOST_FIXTURE_TEST_CASE(generate_then_verify, BlockId) {
  const HttpResult r = generate();
  BOOST_TEST_REQUIRE(r.status == 202, r.body);
  BOOST_TEST(std::regex_match(
      r.json()["messageId"].asString(),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  BOOST_TEST(r.json()["info"].asString() == "OTP request accepted");
  const auto box = mock.outbox();
  BOOST_TEST_REQUIRE(box.size() == 1u);
  BOOST_TEST(box[0].to == "+15551234567");
  BOOST_TEST(box[0].channel == "sms");
  BOOST_TEST(box[0].user == "alice");
  BOOST_TEST(box[0].transaction_id == r.json()["messageId"].asString());

  const HttpResult ok = verify(box[0].code);
  BOOST_TEST_REQUIRE(ok.status == 200, ok.body);
  BOOST_TEST(ok.body == R"({"error_code":0,"message":"","status":true})");
}

BOOST_FIXTURE_TEST_CASE(records_the_exact_request, BlockId) {
  BOOST_TEST(generate().status == 202);
  const RecordedRequest r = last_request();
  BOOST_TEST(r.path == "/api/r2/otp/generate");
  BOOST_TEST(r.body ==
             R"({"communityId":"5f3d8d0cd866fa61019cf969","smsISDCode":"1",)"
             R"("smsTo":"5551234567","tenantId":"5f3d8d0cd866fa61019cf968","userId":"alice"})");
  BOOST_TEST(header_of(r, "content-type") == "application/json");
  BOOST_TEST(header_of(r, "charset") == "utf-8");
  BOOST_TEST(header_of(r, "publickey") == caller.public_key());
  BOOST_TEST(!header_of(r, "licensekey").empty());
  BOOST_TEST(!header_of(r, "requestid").empty());
}

BOOST_FIXTURE_TEST_CASE(email_both_and_string_status, BlockId) {
  Json::Value b = body();
  b["emailTo"] = "alice@example.com";
  b["smsTo"] = "5551234567";
  b["smsISDCode"] = "1";
  BOOST_TEST_REQUIRE(call("generate", b).status == 202);
  const auto box = mock.outbox();
  BOOST_TEST_REQUIRE(box.size() == 2u);  // one code, both destinations
  BOOST_TEST(box[0].code == box[1].code);
  BOOST_TEST(code_for("alice@example.com") == box[0].code);

  Dialects d;
  d.blockid.status_as_string = true;
  mock.configure_dialects(d);
  const HttpResult ok = verify(box[0].code);
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(ok.json()["status"].isString());
  BOOST_TEST(ok.json()["status"].asString() == "true");
}

BOOST_FIXTURE_TEST_CASE(wrong_right_used_expired, BlockId) {
  const std::string code = generated();
  check_error(verify(wrong_code(code)), 404, "Invalid OTP.");
  BOOST_TEST(verify(code).status == 200);
  check_error(verify(code), 409, "OTP already used.");
  const std::string code2 = generated();
  mock.expire_codes();
  check_error(verify(code2), 410, "OTP expired.");
}

BOOST_FIXTURE_TEST_CASE(lockout_after_more_than_five_wrong, BlockId) {
  const std::string code = generated();
  for (int i = 0; i < 5; ++i) check_error(verify(wrong_code(code)), 404, "Invalid OTP.");
  check_error(verify(wrong_code(code)), 403, "OTP request locked for the user.");
  check_error(verify(code), 403, "OTP request locked for the user.");
  check_error(generate(), 403, "OTP request locked for the user.");
  BOOST_TEST(generate("bob").status == 202);
  mock.reset();
  BOOST_TEST(verify(generated()).status == 200);
}

BOOST_FIXTURE_TEST_CASE(bad_license_stale_request_and_tampering, BlockId) {
  replace_header("licensekey", caller.encrypt("wrong-license"));
  check_error(generate(), 401, "Invalid license key");

  headers = caller.headers(kLicense, BlockIdClient::now() - 120);
  check_error(generate(), 401, "Request id expired");
  headers = caller.headers(kLicense, BlockIdClient::now() + 120);
  check_error(generate(), 401, "Request id expired");

  // One flipped bit in the tag: the envelope is no longer authentic.
  headers = caller.headers(kLicense, BlockIdClient::now());
  std::string sealed = base64_decode(caller.encrypt(kLicense)).value();
  sealed.back() = static_cast<char>(sealed.back() ^ 0x01);
  replace_header("licensekey", base64_encode(sealed));
  check_error(generate(), 401, "Invalid license key");
  BOOST_TEST(mock.outbox().empty());
}

BOOST_FIXTURE_TEST_CASE(bad_keys_and_request_ids, BlockId) {
  // Encrypted for another community: the mock derives another secret.
  const CommunityKey elsewhere;
  BlockIdClient stranger(elsewhere.public_key());
  headers = stranger.headers(kLicense, BlockIdClient::now());
  check_error(generate(), 401, "Invalid license key");

  headers = caller.headers(kLicense, BlockIdClient::now());
  std::string xy = base64_decode(caller.public_key()).value();
  xy.back() = static_cast<char>(xy.back() ^ 0x01);  // off the curve
  replace_header("publickey", base64_encode(xy));
  check_error(generate(), 401, "Invalid public key");

  headers = caller.headers(kLicense, BlockIdClient::now());
  replace_header("requestid", caller.encrypt(R"({"ts":"now","appid":"a","uuid":"u"})"));
  check_error(generate(), 401, "Invalid request id");
  replace_header("requestid",
                 caller.encrypt(to_text(object(
                     {{"ts", static_cast<Json::Int64>(BlockIdClient::now())}, {"appid", "a"}}))));
  check_error(generate(), 401, "Invalid request id");

  headers = caller.headers(kLicense, BlockIdClient::now());
  headers.pop_back();  // no requestid
  check_error(generate(), 401, "Missing header: requestid");
  BOOST_TEST(mock.outbox().empty());
}

BOOST_FIXTURE_TEST_CASE(tenant_user_and_destinations, BlockId) {
  Json::Value b = body();
  b["tenantId"] = "000000000000000000000000";
  b["emailTo"] = "alice@example.com";
  check_error(call("generate", b), 400, "Unable to load tenant/community");
  b = body();
  b["communityId"] = "000000000000000000000000";
  b["code"] = "123456";
  check_error(call("verify", b), 400, "Unable to load tenant/community");

  b = body("");
  b["emailTo"] = "alice@example.com";
  BOOST_TEST(call("generate", b).status == 400);
  BOOST_TEST(call("generate", body()).status == 400);  // no destination
  b = body();
  b["smsTo"] = "5551234567";  // without smsISDCode
  BOOST_TEST(call("generate", b).status == 400);
  b["smsISDCode"] = "+1";  // digits only
  BOOST_TEST(call("generate", b).status == 400);
  BOOST_TEST(mock.outbox().empty());
}

BOOST_AUTO_TEST_SUITE_END()
