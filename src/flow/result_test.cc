#include "flow/result.h"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace otp::flow;

BOOST_AUTO_TEST_SUITE(results)

// Every enumerator has its own row: a Result added without one would be
// logged as "error".
BOOST_AUTO_TEST_CASE(every_result_has_its_own_text) {
  std::set<std::string> seen;
  for (int i = 0; i <= static_cast<int>(Result::PasswordAsCode); ++i) {
    const auto text = std::string(result_text(static_cast<Result>(i)));
    BOOST_TEST(seen.insert(text).second, "twice: " << text);
  }
  BOOST_TEST(result_text(Result::Error) == "error");
  BOOST_TEST(result_text(Result::UntrustedProvider) == "untrusted_provider");
}

BOOST_AUTO_TEST_CASE(every_auth_result_has_a_pam_name) {
  for (AuthResult r : {AuthResult::Success, AuthResult::ServiceErr, AuthResult::AuthErr, AuthResult::AuthInfoUnavail,
                       AuthResult::UserUnknown, AuthResult::MaxTries, AuthResult::ConvErr, AuthResult::Ignore})
    BOOST_TEST(result_name(r).starts_with("PAM_"));
}

BOOST_AUTO_TEST_SUITE_END()
