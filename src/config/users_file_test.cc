#include "config/users_file.h"

#include <boost/test/unit_test.hpp>

using namespace otp;
using namespace otp::config;

BOOST_AUTO_TEST_SUITE(users_file)

BOOST_AUTO_TEST_CASE(parses_users_keys_comments_and_quotes) {
  Problems p;
  const auto f = UsersFile::parse(R"(# comment
alice phone=+15551234567   # trailing comment
bob   email=bob@example.com channel=email user_id="user live#42"  

carol phone=+447700900123 note="say \"hi\""
)", "users", p);
  BOOST_TEST(!p.has_errors());
  BOOST_TEST(f.size() == 3u);
  BOOST_TEST(f.find("alice")->keys.at("phone") == "+15551234567");
  BOOST_TEST(f.find("bob")->keys.at("user_id") == "user live#42");
  BOOST_TEST(f.find("bob")->keys.at("channel") == "email");
  BOOST_TEST(f.find("carol")->keys.at("note") == "say \"hi\"");
  BOOST_TEST(!f.find("dave").has_value());
  BOOST_TEST(f.find("bob")->line == 3);
}

BOOST_AUTO_TEST_CASE(wildcard_line_fills_in_the_user) {
  Problems p;
  const auto f = UsersFile::parse("alice phone=+15551234567\n* email=${user}@corp.example\n", "users", p);
  BOOST_TEST(!p.has_errors());
  BOOST_TEST(f.find("dave")->keys.at("email") == "dave@corp.example");
  BOOST_TEST(!f.find("alice")->keys.count("email"));
  // A name that makes no valid address gives no destination.
  BOOST_TEST(!f.find("a b")->keys.count("email"));
}

BOOST_AUTO_TEST_CASE(errors_name_the_line) {
  Problems p;
  UsersFile::parse(R"(alice phone=5551234567
bob email=not-an-address
carol channel=pigeon
dave phone
erin user=root
frank x="unterminated
alice phone=+15551234567
gina phone=+15551234567 phone=+15551234568
hank note=${user}
)", "users", p);
  const auto& list = p.list();
  BOOST_REQUIRE(list.size() == 9u);
  for (std::size_t i = 0; i < list.size(); ++i) BOOST_TEST(list[i].line == static_cast<int>(i + 1));
  BOOST_TEST(list[0].message.find("not an E.164 number") != std::string::npos);
  BOOST_TEST(list[4].message.find("set by the module itself") != std::string::npos);
  BOOST_TEST(list[6].message.find("already listed on line 1") != std::string::npos);
  BOOST_TEST(list[8].message.find("only the '*' line") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
