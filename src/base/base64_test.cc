#include "base/base64.h"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace otp;

BOOST_AUTO_TEST_SUITE(base64)

BOOST_AUTO_TEST_CASE(round_trips_with_padding) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
    BOOST_TEST(*base64_decode(base64_encode(s)) == s);
  BOOST_TEST(base64_encode("alice:secret") == "YWxpY2U6c2VjcmV0");
  BOOST_TEST(*base64_decode("YQ==") == "a");
}

BOOST_AUTO_TEST_CASE(rejects_invalid_text) {
  BOOST_TEST(!base64_decode("abc").has_value());
  BOOST_TEST(!base64_decode("ab!=").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
