// Destinations from a real slapd through the directory's plugin, as the
// module loads it (pam_otp/directory.so beside pam_otp.so). The logins
// through libpam come with the flow's wiring (issue 26).
#include <boost/test/unit_test.hpp>

#include <string>

#include "directory/plugin.h"
#include "slapd_server.h"

namespace {

using otp::directory::Answer;
using otp::directory::Clock;
using otp::directory::FilterTemplate;
using otp::directory::LookupOptions;

otp::testing::SlapdServer& slapd() {
  static otp::testing::SlapdServer s;
  static const bool loaded = [] {
    s.add("dn: uid=carol,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: carol\ncn: Carol\nsn: C\n"
          "mobile: (202) 555-0143\nmail: carol@example.com\n");
    return true;
  }();
  (void)loaded;
  return s;
}

std::string plugin_path() {
  const std::string module = PAM_OTP_MODULE_PATH;
  return module.substr(0, module.rfind('/')) + "/pam_otp/directory.so";
}

LookupOptions options() {
  LookupOptions o{{}, *FilterTemplate::parse("(uid=${user})", nullptr), {{"sms", "mobile"}, {"email", "mail"}}, "US"};
  o.ldap.uris = {slapd().ldaps_uri()};
  o.ldap.ca_file = slapd().ca_file();
  o.ldap.base = otp::testing::SlapdServer::kBase;
  o.ldap.bind_dn = otp::testing::SlapdServer::kAdmin;
  o.ldap.bind_password = otp::Secret(slapd().admin_password());
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(directory_plugin)

BOOST_AUTO_TEST_CASE(the_plugin_finds_a_users_destinations) {
  const Answer a = otp::directory::plugin_lookup(plugin_path(), options(), "carol", Clock::now() + std::chrono::seconds(5));
  BOOST_TEST(a.entry);
  BOOST_REQUIRE(a.destinations.size() == 2u);
  BOOST_TEST(a.destinations[0].second == "+12025550143");
  BOOST_TEST(a.destinations[1].second == "carol@example.com");
  BOOST_TEST(!otp::directory::plugin_problem(plugin_path(), PAM_OTP_DIRECTORY_PLUGIN_SYMBOL).has_value());
}

// The directory's words cross the plugin as Unavailable, with its reasons.
BOOST_AUTO_TEST_CASE(an_unavailable_directory_crosses_the_plugin_as_unavailable) {
  LookupOptions o = options();
  o.ldap.bind_password = otp::Secret("wrong");
  bool unavailable = false;
  try {
    otp::directory::plugin_lookup(plugin_path(), o, "carol", Clock::now() + std::chrono::seconds(5));
  } catch (const otp::directory::Unavailable& e) {
    unavailable = std::string(e.what()).find("Invalid credentials") != std::string::npos;
    BOOST_TEST_MESSAGE(e.what());
  }
  BOOST_TEST(unavailable);
  const auto problem = otp::directory::plugin_problem(plugin_path() + ".missing", PAM_OTP_DIRECTORY_PLUGIN_SYMBOL);
  BOOST_REQUIRE(problem.has_value());
  BOOST_TEST(problem->find("directory's plugin") != std::string::npos, *problem);
}

BOOST_AUTO_TEST_SUITE_END()
