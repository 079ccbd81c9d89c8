#include "provider/expiry.h"

#include <boost/test/unit_test.hpp>

#include "base/json.h"

namespace otp::provider {
namespace {

const ExpirySource kPrivacyIdea{"/detail/multi_challenge/*/attributes/valid_until", "/time"};

// A trigger's answer as privacyIDEA 3.11.4 gives it (one challenge per token).
Json::Value answer(std::initializer_list<const char*> valid_until, double time) {
  Json::Value doc(Json::objectValue);
  doc["time"] = time;
  doc["detail"]["multi_challenge"] = Json::Value(Json::arrayValue);
  for (const char* v : valid_until) {
    Json::Value challenge(Json::objectValue);
    challenge["attributes"]["valid_until"] = v;
    doc["detail"]["multi_challenge"].append(challenge);
  }
  return doc;
}

// 2026-12-07 08:22:15.664 UTC, the time of a real answer.
constexpr double kTime = 1796631735.6644728;

}  // namespace

BOOST_AUTO_TEST_SUITE(code_expiry)

BOOST_AUTO_TEST_CASE(reads_privacyideas_zoneless_local_times) {
  BOOST_TEST(parse_zoneless_time("2026-12-07 08:27:15.661909").value() == 1796632035.661909, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(parse_zoneless_time("2026-12-07T08:27:15").value() == 1796632035.0);
  for (const char* bad : {"", "2026-12-07", "2026-13-07 08:27:15", "2026-12-07 08:27:15Z", "2026-12-07 08:27:15.",
                          "2026-12-07 08:27:15.12x", "tomorrow", "2026-12-07 25:00:00"})
    BOOST_TEST(!parse_zoneless_time(bad).has_value(), bad);
}

// The same 300 s challenge whatever the server's zone: UTC, UTC+5:45
// (Nepal), UTC-9:30 (Marquesas).
BOOST_AUTO_TEST_CASE(the_validity_does_not_depend_on_the_servers_zone) {
  for (const char* local : {"2026-12-07 08:27:15.661909", "2026-12-07 14:12:15.661909", "2026-12-06 22:57:15.661909"}) {
    const Validity v = code_validity(answer({local}, kTime), kPrivacyIdea);
    BOOST_TEST_REQUIRE(v.seconds.has_value(), local << ": " << v.why);
    BOOST_TEST(*v.seconds == 299, local);
  }
}

BOOST_AUTO_TEST_CASE(of_several_challenges_the_earliest_counts) {
  const Validity v = code_validity(answer({"2026-12-07 08:32:15", "2026-12-07 08:24:15.9"}, kTime), kPrivacyIdea);
  BOOST_TEST(v.seconds.value() == 120);
}

// Validities of 15 minutes or more cannot be told from shorter ones; they
// read shorter, never longer, and too short a reading is no reading.
BOOST_AUTO_TEST_CASE(long_validities_read_shorter_never_longer) {
  BOOST_TEST(code_validity(answer({"2026-12-07 08:42:15.7"}, kTime), kPrivacyIdea).seconds.value() == 300);  // 1200 s
  const Validity cut = code_validity(answer({"2026-12-07 08:37:25.7"}, kTime), kPrivacyIdea);  // 910 s
  BOOST_TEST(!cut.seconds.has_value());
  BOOST_TEST(cut.why.find("too short") != std::string::npos, cut.why);
}

BOOST_AUTO_TEST_CASE(an_answer_without_a_usable_expiry_gives_none) {
  Json::Value no_time = answer({"2026-12-07 08:27:15"}, kTime);
  no_time.removeMember("time");
  BOOST_TEST(code_validity(no_time, kPrivacyIdea).why.find("no server time") != std::string::npos);
  BOOST_TEST(!code_validity(answer({}, kTime), kPrivacyIdea).seconds.has_value());
  BOOST_TEST(!code_validity(answer({"soon"}, kTime), kPrivacyIdea).seconds.has_value());
  Json::Value not_string = answer({"x"}, kTime);
  not_string["detail"]["multi_challenge"][0]["attributes"]["valid_until"] = 5;
  BOOST_TEST(!code_validity(not_string, kPrivacyIdea).seconds.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::provider
