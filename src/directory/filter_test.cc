#include "directory/filter.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>

using otp::directory::escape_filter_value;
using otp::directory::FilterTemplate;

BOOST_AUTO_TEST_SUITE(directory_filter)

// RFC 4515, section 4's examples and the five characters it requires.
BOOST_AUTO_TEST_CASE(values_are_escaped_as_rfc_4515_says) {
  BOOST_TEST(escape_filter_value("alice") == "alice");
  BOOST_TEST(escape_filter_value("Parens R Us (for all your parenthetical needs)") ==
             "Parens R Us \\28for all your parenthetical needs\\29");
  BOOST_TEST(escape_filter_value("*") == "\\2a");
  BOOST_TEST(escape_filter_value("C:\\MyFile") == "C:\\5cMyFile");
  BOOST_TEST(escape_filter_value(std::string("a\0b", 3)) == "a\\00b");
  BOOST_TEST(escape_filter_value("Lu\xc4\x8d\xc4\x87") == "Lu\\c4\\8d\\c4\\87");  // UTF-8, byte by byte
  BOOST_TEST(escape_filter_value("tab\there") == "tab\\09here");
}

BOOST_AUTO_TEST_CASE(no_user_name_changes_the_filters_shape) {
  std::string why;
  const auto t = FilterTemplate::parse("(&(objectClass=person)(uid=${user}))", &why);
  BOOST_REQUIRE_MESSAGE(t.has_value(), why);
  BOOST_TEST(t->expand("alice") == "(&(objectClass=person)(uid=alice))");
  const std::string names[] = {"*", "alice)(uid=*", "*)(|(uid=*", "alice\\", "admin)(&", std::string("a\0)", 3)};
  for (const std::string& name : names) {
    const std::string f = t->expand(name);
    // The value has no character that ends or widens an assertion.
    const std::string value = f.substr(std::string("(&(objectClass=person)(uid=").size(),
                                       f.size() - std::string("(&(objectClass=person)(uid=").size() - 2);
    BOOST_TEST(value.find_first_of(std::string("()*\0", 4)) == std::string::npos, f);
    // As many parentheses as the template's: none came with the name.
    BOOST_TEST(std::count(f.begin(), f.end(), '(') == 3, f);
    BOOST_TEST(std::count(f.begin(), f.end(), ')') == 3, f);
  }
  BOOST_TEST(t->expand("*)(|(uid=*") == "(&(objectClass=person)(uid=\\2a\\29\\28|\\28uid=\\2a))");
}

BOOST_AUTO_TEST_CASE(a_template_names_the_user_in_one_filter) {
  std::string why;
  const auto two = FilterTemplate::parse("(|(uid=${user})(mail=${user}@example.com))", &why);
  BOOST_REQUIRE_MESSAGE(two.has_value(), why);
  BOOST_TEST(two->expand("bo*") == "(|(uid=bo\\2a)(mail=bo\\2a@example.com))");
  BOOST_TEST(FilterTemplate::parse("(cn=Jos\\c3\\a9 ${user})", &why).has_value(), why);  // escapes in the template
  const std::pair<const char*, const char*> bad[] = {
      {"(uid=alice)", "${user}"},
      {"uid=${user}", "parentheses"},
      {"(uid=${user})(cn=x)", "one filter"},
      {"(&(uid=${user})", "without its ')'"},
      {"(uid=${user}))", "one filter"},
      {")uid=${user}(", "parentheses"},
      {"(uid=${user}${host})", "only ${user}"},
      {"(uid=${user}\\2)", "two hex digits"},
      {"(uid=${user}\\zz)", "two hex digits"},
      {"(uid=${user}\n)", "control character"},
      {"", "${user}"},
  };
  for (const auto& [text, words] : bad) {
    why.clear();
    BOOST_TEST(!FilterTemplate::parse(text, &why).has_value(), text);
    BOOST_TEST(why.find(words) != std::string::npos, text << ": " << why);
  }
}

BOOST_AUTO_TEST_SUITE_END()
