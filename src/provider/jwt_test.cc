#include "provider/jwt.h"

#include <boost/test/unit_test.hpp>

#include <ctime>

#include "dialects/session_jwt.h"

namespace otp::provider {
namespace {

const std::time_t kNow = 1800000000;

Json::Value claims(const std::string& sub, long exp) {
  Json::Value c(Json::objectValue);
  c["sub"] = sub;
  c["exp"] = static_cast<Json::Int64>(exp);
  c["iat"] = static_cast<Json::Int64>(kNow - 10);
  c["iss"] = "P2pamotpTEST0000000000000000";
  return c;
}

struct Keys {
  mock::SessionSigner signer;
  Json::Value jwks = signer.jwks();
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(session_jwt, Keys)

BOOST_AUTO_TEST_CASE(a_token_signed_by_a_published_key_for_the_user) {
  const std::string token = signer.sign(claims("U2alice", kNow + 600));
  BOOST_TEST(!verify_jwt(token, jwks, {"U2alice", "", kNow - 5, kNow}).has_value());
  BOOST_TEST(!verify_jwt(token, jwks, {"U2alice", "P2pamotpTEST0000000000000000", kNow - 5, kNow}).has_value());
}

// A session of this user from before this login (captured, replayed) is
// not this login's.
BOOST_AUTO_TEST_CASE(the_token_is_issued_during_this_login) {
  Json::Value old = claims("U2alice", kNow + 600);
  old["iat"] = static_cast<Json::Int64>(kNow - 300);
  BOOST_TEST(verify_jwt(signer.sign(old), jwks, {"U2alice", "", kNow - 30, kNow}).value_or("") == "it was issued before this login");
  old["iat"] = static_cast<Json::Int64>(kNow - 80);  // within the leeway of a login that began 30 s ago
  BOOST_TEST(!verify_jwt(signer.sign(old), jwks, {"U2alice", "", kNow - 30, kNow}).has_value());
  old.removeMember("iat");
  BOOST_TEST(verify_jwt(signer.sign(old), jwks, {"U2alice", "", kNow - 30, kNow}).value_or("") == "it has no issue time (iat)");
}

// The issuer forms Descope's SDKs accept, and others they refuse.
BOOST_AUTO_TEST_CASE(the_issuer_names_the_project) {
  const std::string project = "P2pamotpTEST0000000000000000";
  auto with_issuer = [&](const std::string& iss) {
    Json::Value c = claims("U2alice", kNow + 600);
    c["iss"] = iss;
    return verify_jwt(signer.sign(c), jwks, {"U2alice", project, kNow - 5, kNow}).value_or("");
  };
  for (const std::string& ok : {project, "https://api.descope.com/" + project, "https://api.descope.com/v1/" + project,
                               "https://api.descope.com/" + project + "/tenant", project + "/x", "/a/" + project})
    BOOST_TEST(with_issuer(ok).empty(), ok);
  for (const std::string& bad : {std::string("P2other"), "https://" + project + "/", "https://api.descope.com/" + project + "/a/b",
                                project + "x", std::string()})
    BOOST_TEST(with_issuer(bad) == "its issuer is not this project", bad);
}

BOOST_AUTO_TEST_CASE(everything_else_is_refused) {
  const std::string good = signer.sign(claims("U2alice", kNow + 600));
  auto why = [&](const std::string& token, const Json::Value& keys = Json::Value(), const std::string& sub = "U2alice",
                 std::time_t now = kNow) {
    return verify_jwt(token, keys.isNull() ? jwks : keys, {sub, "", now - 5, now}).value_or("");
  };
  BOOST_TEST(why(signer.sign(claims("U2alice", kNow - 120))) == "it has expired");
  BOOST_TEST(why(signer.sign(claims("U2alice", kNow - 30))).empty());  // within the leeway
  BOOST_TEST(why(good, Json::Value(), "U2bob") == "its subject is not this user's id (user_id)");
  BOOST_TEST(why(good, Json::Value(), "") == "this login has no user id to compare the subject with");
  // Another key's signature, with the same kid.
  mock::SessionSigner other;
  std::string forged = other.sign(claims("U2alice", kNow + 600));
  forged = good.substr(0, good.find('.')) + forged.substr(forged.find('.'));  // our kid in the header
  BOOST_TEST(why(forged) == "the signature does not verify");
  BOOST_TEST(why(good, other.jwks()) == "no published key has its kid");
  // A changed claim under the original signature.
  const std::string tampered = good.substr(0, good.find('.') + 1) +
                               mock::base64url("{\"sub\":\"U2alice\",\"exp\":9999999999}") +
                               good.substr(good.rfind('.'));
  BOOST_TEST(why(tampered) == "the signature does not verify");
  // alg none, HS256 and other tricks.
  const std::string none = mock::base64url("{\"alg\":\"none\",\"kid\":\"" + signer.kid() + "\"}") + "." +
                           mock::base64url("{\"sub\":\"U2alice\",\"exp\":9999999999}") + ".";
  BOOST_TEST(why(none) == "algorithm 'none' is not accepted");
  const std::string hs = mock::base64url("{\"alg\":\"HS256\",\"kid\":\"" + signer.kid() + "\"}") +
                         good.substr(good.find('.'));
  BOOST_TEST(why(hs) == "algorithm 'HS256' is not accepted");
  BOOST_TEST(why("not.a.jwt.at.all") == "it is not a JWT (three parts)");
  BOOST_TEST(why("a.b") == "it is not a JWT (three parts)");
  BOOST_TEST(why(good, Json::Value(Json::objectValue)) == "the keys: it is not a key set (no \"keys\" array)");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::provider
