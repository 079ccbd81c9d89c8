// A user's destinations from a real slapd: values made destinations,
// values left out, and the difference between no entry and no value.
#include "directory/lookup.h"

#include <boost/test/unit_test.hpp>

#include "slapd_server.h"

namespace otp::directory {
namespace {

// erin, with twelve addresses.
std::string erin() {
  std::string ldif = "dn: uid=erin,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: erin\ncn: Erin\nsn: E\n";
  for (int i = 0; i < 12; ++i) ldif += "mail: erin" + std::to_string(i) + "@example.com\n";
  return ldif;
}

testing::SlapdServer& slapd() {
  static testing::SlapdServer s;
  static const bool loaded = [] {
    s.add("dn: uid=alice,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice\nsn: A\n"
          "mobile: +1 (202) 555-0143\nmobile: call me\nmobile: 202-456-1111\n"
          "telephoneNumber: 0044 20 7946 0958\nmail: alice@example.com\nmail: not-a-mail\n\n"
          "dn: uid=bob,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: bob\ncn: Bob\nsn: B\n"
          "mobile: 555-1234\n\n"
          "dn: uid=dave,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: dave\ncn: Dave\nsn: D\n"
          "mobile: +1 202 555 0143\nmobile: (202) 555-0143\nmail: dave@example.com\n\n" + erin());
    return true;
  }();
  (void)loaded;
  return s;
}

LookupOptions options(const std::string& region) {
  LookupOptions o{{}, *FilterTemplate::parse("(&(objectClass=inetOrgPerson)(uid=${user}))", nullptr), {}, region};
  o.ldap.uris = {slapd().ldaps_uri()};
  o.ldap.ca_file = slapd().ca_file();
  o.ldap.base = testing::SlapdServer::kBase;
  o.ldap.bind_dn = testing::SlapdServer::kAdmin;
  o.ldap.bind_password = Secret(slapd().admin_password());
  o.channels = {{"sms", "mobile", false}, {"voice", "telephoneNumber", false}, {"email", "mail", true}};
  return o;
}

std::vector<std::pair<std::string, std::string>> pairs(const Answer& a) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : a.destinations) out.emplace_back(f.channel, f.address);
  return out;
}

Clock::time_point soon() { return Clock::now() + std::chrono::seconds(5); }

}  // namespace

BOOST_AUTO_TEST_SUITE(directory_lookup)

BOOST_AUTO_TEST_CASE(every_usable_value_is_a_destination_in_order) {
  const Answer a = lookup(options("DE"), "alice", soon());
  BOOST_TEST(a.entry);
  BOOST_TEST(a.dn == "uid=alice,dc=example,dc=com");
  // (Region DE: "202-456-1111" is read as a German number, as a person in
  // Germany would dial it: Wuppertal's 0202.)
  const std::vector<std::pair<std::string, std::string>> expected = {{"sms", "+12025550143"},
                                                                     {"sms", "+492024561111"},
                                                                     {"voice", "+442079460958"},
                                                                     {"email", "alice@example.com"}};
  BOOST_TEST((pairs(a) == expected));
  BOOST_TEST(a.destinations.at(1).origin == "mobile value 3");
  BOOST_REQUIRE(a.left_out.size() == 2u);
  BOOST_TEST(a.left_out[0] == "mobile value 2 has more than digits, spaces and + ( ) - . / (words, letters or an extension)");
  BOOST_TEST(a.left_out[1] == "mail value 2 is not an e-mail address");
  for (const auto& why : a.left_out) BOOST_TEST(why.find("call me") == std::string::npos);  // (values are not shown)
  const Answer us = lookup(options("US"), "alice", soon());
  // In the US, 202-456-1111 is Washington's, and "0044 ..." is no number (011 is the way out of the US).
  BOOST_TEST(us.destinations.size() == 3u);
  BOOST_TEST(us.destinations.at(1).address == "+12024561111");
  BOOST_TEST(us.left_out.size() == 3u);
}

// An entry without a usable value is the directory saying "no
// destination" (unenrolled); no entry at all says the same of the name.
BOOST_AUTO_TEST_CASE(an_entry_without_a_usable_value_and_no_entry_differ) {
  const Answer bob = lookup(options("US"), "bob", soon());
  BOOST_TEST(bob.entry);
  BOOST_TEST(bob.destinations.empty());
  BOOST_TEST(bob.left_out.size() == 1u);
  const Answer nobody = lookup(options("US"), "nobody", soon());
  BOOST_TEST(!nobody.entry);
  BOOST_TEST(nobody.destinations.empty());
}

// One number written two ways is one destination, not two menu entries.
BOOST_AUTO_TEST_CASE(a_number_written_two_ways_is_one_destination) {
  const Answer dave = lookup(options("US"), "dave", soon());
  const std::vector<std::pair<std::string, std::string>> expected = {{"sms", "+12025550143"},
                                                                     {"email", "dave@example.com"}};
  BOOST_TEST((pairs(dave) == expected));
  BOOST_TEST(dave.left_out.empty());
}

// A menu's worth, and the rest left out: a user who may write their own
// attribute cannot make a prompt without end.
BOOST_AUTO_TEST_CASE(at_most_ten_destinations) {
  const Answer a = lookup(options("US"), "erin", soon());
  BOOST_TEST(a.destinations.size() == 10u);
  BOOST_REQUIRE(a.left_out.size() == 2u);
  BOOST_TEST(a.left_out[0].find("is one more than the 10 destinations") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::directory
