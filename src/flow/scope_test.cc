#include "flow/scope.h"

#include <boost/test/unit_test.hpp>

#include "fakes.h"

using namespace otp;
using namespace otp::flow;

namespace {

struct Fixture {
  config::Config cfg;
  testing::FakeUserDirectory directory;
  UserInfo alice{"alice", 1001, 1001};
  Fixture() {
    directory.users["alice"] = {"alice", "staff", "wheel"};
    directory.users["bob"] = {"otp-users"};
  }
  ScopeDecision decide(const std::string& service = "sshd", const std::string& rhost = "203.0.113.5") {
    return decide_scope(cfg, alice, directory, service, rhost);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(scope, Fixture)

BOOST_AUTO_TEST_CASE(everyone_is_in_scope_by_default) {
  BOOST_TEST(decide().in_scope);
}

BOOST_AUTO_TEST_CASE(exempt_services) {
  cfg.exempt_services = {"sudo", "cron"};
  BOOST_TEST(decide("sshd").in_scope);
  const auto d = decide("sudo");
  BOOST_TEST(!d.in_scope);
  BOOST_TEST(d.rule == "exempt_services: sudo");
}

BOOST_AUTO_TEST_CASE(exempt_networks_v4_and_v6) {
  cfg.exempt_networks = {"10.0.0.0/8", "2001:db8::/32"};
  BOOST_TEST(!decide("sshd", "10.1.2.3").in_scope);
  BOOST_TEST(decide("sshd", "11.1.2.3").in_scope);
  BOOST_TEST(!decide("sshd", "2001:db8::7").in_scope);
  BOOST_TEST(decide("sshd", "2001:db9::7").in_scope);
  BOOST_TEST(!decide("sshd", "::ffff:10.9.9.9").in_scope);  // IPv4-mapped
  BOOST_TEST(decide("sshd", "10.example.com").in_scope);    // a host name never matches
  BOOST_TEST(decide("sshd", "").in_scope);                  // a console login never matches
  BOOST_TEST(decide("sshd", "10.1.2.3").rule == "exempt_networks: 10.1.2.3 is in 10.0.0.0/8");
}

BOOST_AUTO_TEST_CASE(everything_exempt_network) {
  cfg.exempt_networks = {"0.0.0.0/0", "::/0"};
  BOOST_TEST(!decide("sshd", "198.51.100.1").in_scope);
  BOOST_TEST(!decide("sshd", "fe80::1").in_scope);
  BOOST_TEST(decide("sshd", "").in_scope);
}

BOOST_AUTO_TEST_CASE(require_groups_uses_primary_and_supplementary_groups) {
  cfg.require_groups = {"otp-users"};
  const auto d = decide();
  BOOST_TEST(!d.in_scope);
  BOOST_TEST(d.rule == "require_groups: the user is in none of them");
  cfg.require_groups = {"otp-users", "staff"};  // supplementary
  BOOST_TEST(decide().in_scope);
  cfg.require_groups = {"alice"};  // primary
  BOOST_TEST(decide().in_scope);
}

BOOST_AUTO_TEST_CASE(exempt_groups) {
  cfg.exempt_groups = {"nobody", "wheel"};
  const auto d = decide();
  BOOST_TEST(!d.in_scope);
  BOOST_TEST(d.rule == "exempt_groups: wheel");
  cfg.exempt_groups = {"does-not-exist"};  // unknown groups exempt nobody
  const auto unknown = decide();
  BOOST_TEST(unknown.in_scope);
  BOOST_TEST(unknown.problems == std::vector<std::string>{"exempt_groups: group 'does-not-exist' does not exist; it exempts nobody"},
             boost::test_tools::per_element());
}

// A group that cannot be read (a directory that is down) or does not exist
// never takes a user out of scope.
BOOST_AUTO_TEST_CASE(groups_that_cannot_be_read_decide_nothing) {
  directory.broken = {"mfa", "wheel"};
  cfg.require_groups = {"mfa"};
  auto d = decide();
  BOOST_TEST(d.in_scope);
  BOOST_TEST(d.problems == std::vector<std::string>{"require_groups: group 'mfa' cannot be read (Input/output error); "
                                                    "treated as a group the user is in"},
             boost::test_tools::per_element());
  cfg.require_groups = {"mfa", "typo"};  // still no group read that alice is outside of
  BOOST_TEST(decide().in_scope);
  BOOST_TEST(decide().problems.size() == 2u);
  cfg.require_groups = {"mfa", "staff"};  // in a required group that was read: nothing to report
  BOOST_TEST(decide().in_scope);
  BOOST_TEST(decide().problems.empty());
  cfg.require_groups = {"mfa", "otp-users"};  // out of otp-users, but mfa cannot be read
  BOOST_TEST(decide().in_scope);
  directory.broken.clear();
  directory.groups_unlisted = true;  // her groups cannot be listed: a readable group she seems out of decides nothing
  cfg.require_groups = {"otp-users"};
  d = decide();
  BOOST_TEST(d.in_scope);
  BOOST_TEST(d.problems == std::vector<std::string>{"require_groups: group 'otp-users' cannot be read (the user's "
                                                    "groups cannot be listed); treated as a group the user is in"},
             boost::test_tools::per_element());
  directory.groups_unlisted = false;
  directory.broken = {"mfa", "wheel"};
  cfg.require_groups = {};
  cfg.exempt_groups = {"wheel"};  // alice is in wheel, which cannot be read now
  d = decide();
  BOOST_TEST(d.in_scope);
  BOOST_TEST(d.problems.size() == 1u);
}

BOOST_AUTO_TEST_CASE(rules_apply_in_a_fixed_order) {
  cfg.exempt_services = {"sshd"};
  cfg.exempt_groups = {"wheel"};
  BOOST_TEST(decide().rule == "exempt_services: sshd");
  cfg.exempt_services.clear();
  cfg.require_groups = {"staff"};
  BOOST_TEST(decide().rule == "exempt_groups: wheel");
}

BOOST_AUTO_TEST_SUITE_END()
