#include "directory/phone.h"

#include <boost/test/unit_test.hpp>

using otp::directory::known_region;
using otp::directory::normalise_phone;

BOOST_AUTO_TEST_SUITE(directory_phone)

// Numbers as people type them into a directory, each the E.164 form a
// provider takes.
BOOST_AUTO_TEST_CASE(numbers_as_people_type_them_become_e164) {
  const std::pair<const char*, const char*> us[] = {
      {"+1 (202) 555-0143", "+12025550143"},
      {"(202) 456-1111", "+12024561111"},
      {"202.456.1111", "+12024561111"},
      {"1-202-456-1111", "+12024561111"},
      {"011 44 20 7946 0958", "+442079460958"},  // the US way out
      {"+44 (0)20 7946 0958", "+442079460958"},
  };
  for (const auto& [typed, e164] : us) {
    const auto n = normalise_phone(typed, "US");
    BOOST_TEST(n.e164 == e164, typed << ": " << n.problem);
  }
  const auto uk = normalise_phone("0044 20 7946 0958", "DE");  // 00 is the way out from Germany
  BOOST_TEST(uk.e164 == "+442079460958", uk.problem);
  const auto local = normalise_phone("020 7946 0958", "GB");
  BOOST_TEST(local.e164 == "+442079460958", local.problem);
  const auto anywhere = normalise_phone("+49 30 901820", "");  // with its country code, no region needed
  BOOST_TEST(anywhere.e164 == "+4930901820", anywhere.problem);
}

// What is not a valid number is refused with why, never passed on.
BOOST_AUTO_TEST_CASE(what_is_not_a_valid_number_is_refused) {
  const std::pair<const char*, const char*> bad[] = {
      {"555-1234", "not a valid number"},           // seven digits: no area code
      {"+1 555 123 4567", "not a valid number"},    // 555 is no area code
      {"020 7946 0958", "default_region"},          // no region given (below)
      {"call me", "more than digits"},
      {"+1 202-555-0143 x 1234", "more than digits"},  // an extension would be dropped: a switchboard
      {"+1 202-555-0143;ext=5", "more than digits"},
      {"+1 202-555-0143 #4", "more than digits"},
      {"call +1 202 555 0143", "more than digits"},    // a number read out of words
      {"1-800-FLOWERS", "more than digits"},           // letters read as digits
      {"\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92 456 1111", "more than digits"},  // full-width digits
      {"202 +1 456 1111", "more than digits"},         // a '+' that is not first
      {"+1", "not a phone number"},
      {"12345678901234567890123456789012345678901234567890123456789012345", "too long"},
  };
  for (const auto& [typed, words] : bad) {
    const auto n = normalise_phone(typed, std::string(typed) == "020 7946 0958" ? "" : "US");
    BOOST_TEST(n.e164.empty(), typed);
    BOOST_TEST(n.problem.find(words) != std::string::npos, typed << ": " << n.problem);
  }
}

BOOST_AUTO_TEST_CASE(regions_are_libphonenumbers) {
  BOOST_TEST(known_region("GB"));
  BOOST_TEST(known_region("US"));
  BOOST_TEST(!known_region("UK"));
  BOOST_TEST(!known_region(""));
  BOOST_TEST(!known_region("us"));
}

BOOST_AUTO_TEST_SUITE_END()
