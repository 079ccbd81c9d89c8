#include "base/regex.h"

#include <boost/test/unit_test.hpp>

using namespace otp;

BOOST_AUTO_TEST_SUITE(regex)

BOOST_AUTO_TEST_CASE(compiles_once_and_matches) {
  std::string error;
  const auto re = Regex::compile("^[0-9]{4,10}$", error);
  BOOST_REQUIRE(re);
  BOOST_TEST(re->matches("123456"));
  BOOST_TEST(!re->matches("12a456"));
  BOOST_TEST(!re->matches("123"));
  const Regex copy = *re;  // shares the compiled form
  BOOST_TEST(copy.matches("0000"));
  BOOST_TEST(copy.source() == "^[0-9]{4,10}$");
}

BOOST_AUTO_TEST_CASE(says_why_it_does_not_compile) {
  std::string error;
  BOOST_TEST(!Regex::compile("([0-9]", error));
  BOOST_TEST(!error.empty());
}

BOOST_AUTO_TEST_SUITE_END()
