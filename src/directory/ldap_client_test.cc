// The LDAP lookup against a real slapd (tests/support/slapd_server): what
// it finds, what it refuses, and that nothing holds it past its deadline.
#include "directory/ldap_client.h"

#include <boost/test/unit_test.hpp>

#include <sys/resource.h>

#include "directory/filter.h"
#include "slapd_server.h"
#include "time_bound.h"

namespace otp::directory {
namespace {

using std::chrono::milliseconds;

testing::SlapdServer& slapd() {
  static testing::SlapdServer s;
  return s;
}

// alice with two numbers and a mail, and two entries for "twin" in two OUs.
void load_once() {
  static bool loaded = false;
  if (loaded) return;
  slapd().add(
      "dn: uid=alice,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice\nsn: A\n"
      "mobile: +1 (202) 555-0143\nmobile: 202-456-1111\nmail: alice@example.com\n\n"
      "dn: ou=a,dc=example,dc=com\nobjectClass: organizationalUnit\nou: a\n\n"
      "dn: ou=b,dc=example,dc=com\nobjectClass: organizationalUnit\nou: b\n\n"
      "dn: uid=twin,ou=a,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: twin\ncn: T\nsn: T\n\n"
      "dn: uid=twin,ou=b,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: twin\ncn: T\nsn: T\n\n"
      // A subtree held "elsewhere": ou=a on this server's ldap:// port.
      "dn: ou=moved,dc=example,dc=com\nobjectClass: referral\nobjectClass: extensibleObject\nou: moved\n"
      "ref: ldap://127.0.0.1:" + std::to_string(slapd().ldap_port()) + "/ou=a,dc=example,dc=com\n");
  loaded = true;
}

// This process's CPU time, user and system, all threads.
milliseconds cpu_time() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto ms = [](const timeval& t) { return milliseconds(t.tv_sec * 1000 + t.tv_usec / 1000); };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

struct Fixture {
  Fixture() {
    load_once();
    options.uris = {slapd().ldaps_uri()};
    options.ca_file = slapd().ca_file();
    options.base = testing::SlapdServer::kBase;
    options.attributes = {"mobile", "mail"};
    options.bind_dn = testing::SlapdServer::kAdmin;
    options.bind_password = Secret(slapd().admin_password());
  }
  std::optional<Entry> find(const std::string& user, milliseconds budget = milliseconds(5000)) const {
    return find_entry(options, filter->expand(user), Clock::now() + budget);
  }
  std::string refusal(const std::string& user, milliseconds budget = milliseconds(5000)) {
    try {
      find(user, budget);
    } catch (const Unavailable& e) {
      failure = e.failure();
      return e.what();
    }
    failure.reset();
    return "";
  }
  std::optional<Failure> failure;  // of the last refusal()
  LdapOptions options;
  std::optional<FilterTemplate> filter = FilterTemplate::parse("(&(objectClass=inetOrgPerson)(uid=${user}))", nullptr);
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(directory_ldap, Fixture)

BOOST_AUTO_TEST_CASE(an_entry_is_found_over_ldaps_and_starttls) {
  for (const auto& uri : {slapd().ldaps_uri(), slapd().ldap_uri()}) {
    options.uris = {uri};
    const auto e = find("alice");
    BOOST_REQUIRE_MESSAGE(e.has_value(), uri);
    BOOST_TEST(e->dn == "uid=alice,dc=example,dc=com");
    BOOST_TEST(e->values.at("mobile").size() == 2u);
    BOOST_TEST(e->values.at("mobile").at(0) == "+1 (202) 555-0143");
    BOOST_TEST(e->values.at("mail").at(0) == "alice@example.com");
  }
}

// No entry is an answer ("none"), for every name that tries to widen the
// filter too; two entries for one name are not a choice.
BOOST_AUTO_TEST_CASE(none_is_an_answer_and_two_are_refused) {
  for (const std::string name : {"nobody", "*", "alice)(uid=*", "*)(|(uid=*", "al*"})
    BOOST_TEST(!find(name).has_value(), name);
  BOOST_TEST(refusal("twin").find("more than one entry") != std::string::npos);
  BOOST_TEST((failure == Failure::Ambiguous));
}

// A base another server holds (a referral) is configuration, unless
// follow_referrals: then it is asked there by pam_otp's rules (StartTLS on
// the ldap:// it names: this slapd serves nothing without TLS; the CA;
// our bind). From the root, the same subtree is a continuation reference:
// not followed, and no outage (Active Directory's partitions).
BOOST_AUTO_TEST_CASE(referrals_are_followed_only_when_configured_and_by_our_rules) {
  options.base = "ou=moved,dc=example,dc=com";
  BOOST_TEST(refusal("twin").find("is held by another server") != std::string::npos);
  BOOST_TEST((failure == Failure::Refused));
  options.follow_referrals = true;
  const auto twin = find("twin");
  BOOST_REQUIRE(twin.has_value());
  BOOST_TEST(twin->dn == "uid=twin,ou=a,dc=example,dc=com");
  options.base = testing::SlapdServer::kBase;
  options.follow_referrals = false;
  BOOST_TEST(find("alice").has_value());
  BOOST_TEST(!find("nobody").has_value());
}

BOOST_AUTO_TEST_CASE(the_next_uri_is_tried_when_one_is_down) {
  options.uris = {"ldaps://127.0.0.1:1", slapd().ldaps_uri()};
  BOOST_TEST(find("alice").has_value());
}

// A wrong password or a server whose certificate the CA did not sign: the
// directory is unavailable, never "no entry".
BOOST_AUTO_TEST_CASE(a_refused_bind_or_an_unverified_server_is_unavailable) {
  options.bind_password = Secret("wrong");
  BOOST_TEST(refusal("alice").find("Invalid credentials") != std::string::npos);
  BOOST_TEST((failure == Failure::Refused));  // (the server refused our own bind: configuration)
  BOOST_TEST(refusal("alice").find("wrong") == std::string::npos);  // (the password is never in the words)
  options.bind_password = Secret(slapd().admin_password());
  options.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  for (const auto& uri : {slapd().ldaps_uri(), slapd().ldap_uri()}) {
    options.uris = {uri};
    BOOST_TEST(!refusal("alice").empty(), uri);
    BOOST_TEST((failure == Failure::Untrusted), uri);
  }
  // Each URI fails its own way; the worst decides.
  options.uris = {"ldaps://127.0.0.1:1", slapd().ldaps_uri()};
  BOOST_TEST(!refusal("alice").empty());
  BOOST_TEST((failure == Failure::Untrusted));
  testing::SlapdOptions wrong;
  wrong.wrong_host_certificate = true;
  testing::SlapdServer other(wrong);
  options.ca_file = other.ca_file();
  for (const auto& uri : {other.ldaps_uri(), other.ldap_uri()}) {
    options.uris = {uri};
    BOOST_TEST(!refusal("alice").empty(), uri);
    BOOST_TEST((failure == Failure::Untrusted), uri);
  }
}

// A server that accepts and then says nothing (stopped with SIGSTOP) costs
// the budget: libldap 2.5 would read an ldaps:// handshake for ever.
BOOST_AUTO_TEST_CASE(a_server_that_says_nothing_costs_the_budget) {
  slapd().freeze();
  const auto cpu_before = cpu_time();
  for (const auto& uri : {slapd().ldaps_uri(), slapd().ldap_uri()}) {
    options.uris = {uri};
    const auto start = Clock::now();
    const std::string why = refusal("alice", milliseconds(500));
    const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    BOOST_TEST(!why.empty(), uri);
    BOOST_TEST((failure == Failure::NoAnswer), uri << ": " << why);
    BOOST_TEST(took.count() < testing::within(milliseconds(500)).count(), uri << ": " << took.count() << " ms");
  }
  // Waiting, not spinning: libldap retried a synchronous connect's TLS
  // handshake without waiting, a core busy until the deadline. (Not in a
  // slow build, where the program's own work is what costs.)
  const auto cpu = cpu_time() - cpu_before;
  if (testing::slowdown() == 1) BOOST_TEST(cpu.count() < 250, cpu.count() << " ms of CPU in 1000 ms");
  slapd().thaw();
  BOOST_TEST(find("alice").has_value());
}

BOOST_AUTO_TEST_CASE(a_server_that_is_down_is_unavailable) {
  testing::SlapdServer gone;
  options.uris = {gone.ldaps_uri()};
  gone.stop();
  BOOST_TEST(refusal("alice").find("Can't contact LDAP server") != std::string::npos);
  BOOST_TEST((failure == Failure::NoAnswer));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::directory
