#include "config/cidr.h"

#include <boost/test/unit_test.hpp>

using otp::config::Cidr;

BOOST_AUTO_TEST_SUITE(cidr)

BOOST_AUTO_TEST_CASE(ipv4) {
  const auto net = Cidr::parse("10.1.0.0/16");
  BOOST_REQUIRE(net.has_value());
  BOOST_TEST(net->contains("10.1.255.7"));
  BOOST_TEST(!net->contains("10.2.0.1"));
  BOOST_TEST(net->contains("::ffff:10.1.2.3"));  // IPv4-mapped
  BOOST_TEST(Cidr::parse("0.0.0.0/0")->contains("203.0.113.9"));
  BOOST_TEST(Cidr::parse("192.0.2.1")->contains("192.0.2.1"));
  BOOST_TEST(!Cidr::parse("192.0.2.1")->contains("192.0.2.2"));
  BOOST_TEST(Cidr::parse("192.0.2.0/25")->contains("192.0.2.127"));
  BOOST_TEST(!Cidr::parse("192.0.2.0/25")->contains("192.0.2.128"));
}

BOOST_AUTO_TEST_CASE(ipv6) {
  const auto net = Cidr::parse("2001:db8::/32");
  BOOST_TEST(net->contains("2001:db8:ffff::1"));
  BOOST_TEST(!net->contains("2001:db9::1"));
  BOOST_TEST(!net->contains("10.0.0.1"));
  BOOST_TEST(Cidr::parse("::1/128")->contains("::1"));
}

BOOST_AUTO_TEST_CASE(host_names_and_empty_never_match) {
  const auto all = Cidr::parse("0.0.0.0/0");
  BOOST_TEST(!all->contains(""));
  BOOST_TEST(!all->contains("localhost"));
  BOOST_TEST(!all->contains("host.example"));
}

BOOST_AUTO_TEST_CASE(rejects_bad_networks) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "10.0.0.0/", "::/129", "host/8", "10.0.0.0/8x", ""})
    BOOST_TEST(!Cidr::parse(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()
