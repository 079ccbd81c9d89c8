#include "store/recovery_codes.h"

#include <boost/test/unit_test.hpp>

#include <set>

namespace otp::store {

BOOST_AUTO_TEST_SUITE(recovery_codes)

BOOST_AUTO_TEST_CASE(codes_are_shaped_and_distinct) {
  const auto codes = make_recovery_codes(50);
  BOOST_REQUIRE(codes.size() == 50u);
  std::set<std::string> seen;
  for (const auto& code : codes) {
    const std::string text(code.reveal());
    BOOST_TEST(text.size() == 14u);
    BOOST_TEST(text[4] == '-');
    BOOST_TEST(text[9] == '-');
    BOOST_TEST(text.find_first_of("ilo0123456789") == std::string::npos, text);
    BOOST_TEST(normalize_recovery_code(text).has_value(), text);
    seen.insert(text);
  }
  BOOST_TEST(seen.size() == 50u);
}

BOOST_AUTO_TEST_CASE(typed_codes_are_normalized) {
  BOOST_TEST(normalize_recovery_code("ABCD-efgh-jkmn")->reveal() == "abcdefghjkmn");
  BOOST_TEST(normalize_recovery_code("abcd efgh jkmn")->reveal() == "abcdefghjkmn");
  BOOST_TEST(normalize_recovery_code("abcdefghjkmn")->reveal() == "abcdefghjkmn");
  BOOST_TEST(!normalize_recovery_code("123456"));          // a one-time code
  BOOST_TEST(!normalize_recovery_code("abcd-efgh-jkm"));   // too short
  BOOST_TEST(!normalize_recovery_code("abcd-efgh-jkmnp")); // too long
  BOOST_TEST(!normalize_recovery_code("abcd-efgh-jklm"));  // 'l' is not in the alphabet
  BOOST_TEST(!normalize_recovery_code(""));
}

BOOST_AUTO_TEST_CASE(hashes_depend_on_code_and_salt) {
  const Secret code("abcdefghjkmn");
  const std::string salt = make_salt();
  BOOST_TEST(salt.size() == 16u);
  const std::string hash = hash_recovery_code(code, salt);
  BOOST_TEST(hash.size() == 32u);
  BOOST_TEST(same_hash(hash, hash_recovery_code(code, salt)));
  BOOST_TEST(!same_hash(hash, hash_recovery_code(Secret("abcdefghjkmp"), salt)));
  BOOST_TEST(!same_hash(hash, hash_recovery_code(code, make_salt())));
  BOOST_TEST(!same_hash(hash, hash.substr(0, 31)));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::store
