#include "flow/ssh_auth_info.h"

#include <boost/test/unit_test.hpp>

using namespace otp::flow;

BOOST_AUTO_TEST_SUITE(ssh_auth_info)

BOOST_AUTO_TEST_CASE(each_line_is_a_method_its_submethod_and_its_detail) {
  const auto steps = ssh_auth_steps("publickey ssh-ed25519 AAAAC3Nza\n\nkeyboard-interactive/pam\npassword");
  BOOST_REQUIRE(steps.size() == 3u);
  BOOST_TEST(steps[0].method == "publickey");
  BOOST_TEST(steps[0].submethod == "");
  BOOST_TEST(steps[0].detail == "ssh-ed25519 AAAAC3Nza");
  BOOST_TEST(steps[0].line == "publickey ssh-ed25519 AAAAC3Nza");
  BOOST_TEST(steps[1].method == "keyboard-interactive");
  BOOST_TEST(steps[1].submethod == "pam");
  BOOST_TEST(steps[1].detail == "");
  BOOST_TEST(steps[2].method == "password");
  BOOST_TEST(ssh_auth_steps("").empty());
}

BOOST_AUTO_TEST_SUITE_END()
