#include "store/pg_target.h"

#include <boost/test/unit_test.hpp>

namespace otp::store {
namespace {

// The problem with uri (as parsed with ports from 1024 up unprivileged), or "" when it parses.
std::string problem_of(const std::string& uri) {
  std::string problem;
  return parse_pg_uri(uri, &problem, 1024) ? std::string() : problem;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_target)

BOOST_AUTO_TEST_CASE(the_issue_example_parses_into_every_part) {
  std::string problem;
  const auto t = parse_pg_uri(
      "postgresql://pam_otp@db.example:5432/pam_otp?sslmode=verify-full&sslrootcert=/etc/security/pam_otp-db-ca.pem",
      &problem, 1024);
  BOOST_REQUIRE_MESSAGE(t, problem);
  BOOST_REQUIRE(t->hosts.size() == 1u);
  BOOST_TEST(t->hosts[0].name == "db.example");
  BOOST_TEST(t->hosts[0].port == 5432);
  BOOST_TEST(t->user == "pam_otp");
  BOOST_TEST(t->dbname == "pam_otp");
  BOOST_TEST(t->sslmode == "verify-full");
  BOOST_TEST(t->sslrootcert == "/etc/security/pam_otp-db-ca.pem");
  BOOST_TEST(!t->client_certificate());
  BOOST_TEST(describe(*t) == "postgresql://pam_otp@db.example:5432/pam_otp");
}

BOOST_AUTO_TEST_CASE(several_hosts_ipv6_and_a_socket_directory) {
  std::string problem;
  const auto t = parse_pg_uri("postgres://u@DB1.example,[::1]:6432,%2Frun%2Fpostgresql/d?sslrootcert=/ca.pem", &problem, 1024);
  BOOST_REQUIRE_MESSAGE(t, problem);
  BOOST_REQUIRE(t->hosts.size() == 3u);
  BOOST_TEST(t->hosts[0].name == "db1.example");
  BOOST_TEST(t->hosts[0].port == 5432);
  BOOST_TEST(t->hosts[1].name == "::1");
  BOOST_TEST(t->hosts[1].port == 6432);
  BOOST_TEST(t->hosts[2].name == "/run/postgresql");
  BOOST_TEST(t->hosts[2].socket_dir());
  BOOST_TEST(describe(*t) == "postgresql://u@db1.example:5432,[::1]:6432,/run/postgresql:5432/d");
}

BOOST_AUTO_TEST_CASE(tls_weaker_than_verify_full_only_where_nobody_else_can_be_the_server) {
  BOOST_TEST(problem_of("postgresql://u@127.0.0.1:999/d?sslmode=disable") == "");
  BOOST_TEST(problem_of("postgresql://u@%2Frun%2Fpostgresql/d?sslmode=disable") == "");
  BOOST_TEST(problem_of("postgresql://u@%2Frun%2Fpostgresql/d") == "");  // a socket needs no CA
  BOOST_TEST(problem_of("postgresql://u@127.0.0.1:5432/d?sslmode=disable").find("any local user may listen") !=
             std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example/d?sslmode=disable").find("which is not loopback") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example/d?sslmode=require").find("which is not loopback") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example/d?sslmode=verify-ca").find("which is not loopback") !=
             std::string::npos);
  // verify-full is the default, and needs the CA named.
  BOOST_TEST(problem_of("postgresql://u@db.example/d").find("needs sslrootcert") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@127.0.0.1:999,db.example/d?sslmode=disable").find("not loopback") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_password_in_the_uri_is_refused_and_never_quoted) {
  for (const char* uri : {"postgresql://u:hunter2@db.example/d?sslrootcert=/ca.pem",
                          "postgresql://u:hun/ter2@db.example/d?sslrootcert=/ca.pem",
                          "postgresql://u:hun?ter2@db.example/d", "postgresql://u:hun@ter2@db.example/d"}) {
    const std::string problem = problem_of(uri);
    BOOST_TEST(problem.find("state_password_file") != std::string::npos, uri << ": " << problem);
    BOOST_TEST(problem.find("ter2") == std::string::npos, uri << ": " << problem);
    BOOST_TEST(redact_pg_uri(uri).find("ter2") == std::string::npos);
  }
  BOOST_TEST(problem_of("postgresql://u@db.example/d?sslrootcert=/ca.pem&password=x").find("state_password_file") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_password_parameter_is_redacted_however_it_is_spelled) {
  for (const char* uri : {"postgresql://u@db.example/d?sslrootcert=/ca.pem&password=hunter2",
                          "postgresql://u@db.example/d?pass%77ord=hunter2&sslrootcert=/ca.pem"}) {
    BOOST_TEST(redact_pg_uri(uri).find("hunter2") == std::string::npos, redact_pg_uri(uri));
    BOOST_TEST(redact_pg_uri(uri).find("sslrootcert=/ca.pem") != std::string::npos);
    BOOST_TEST(problem_of(uri).find("state_password_file") != std::string::npos, uri);
  }
}

// libpq splits a host on commas: a decoded one would make two hosts of one.
BOOST_AUTO_TEST_CASE(a_socket_directory_holds_no_comma_or_oddity) {
  BOOST_TEST(problem_of("postgresql://u@%2Ftmp%2Cdb.evil/d?sslmode=disable").find("socket directory") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@%2Ftmp%20x/d").find("socket directory") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@%2Frun%2Fpostgresql/d") == "");
}

BOOST_AUTO_TEST_CASE(parameters_outside_the_list_are_refused_by_name) {
  for (const char* key : {"service", "passfile", "options", "connect_timeout", "host", "hostaddr", "gssencmode"}) {
    const std::string problem = problem_of(std::string("postgresql://u@127.0.0.1:999/d?sslmode=disable&") + key + "=x");
    BOOST_TEST(problem.find(std::string("\"") + key + "\" is not one pam_otp takes") != std::string::npos, problem);
  }
  BOOST_TEST(problem_of("postgresql://u@db.example/d?sslrootcert=/a&sslrootcert=/b").find("given twice") !=
             std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example/d?sslrootcert=ca.pem").find("absolute path") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example/d?sslrootcert=/ca&sslmode=verify-fulll").find("not one of") !=
             std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example/d?sslrootcert=/ca&sslcert=/c.pem").find("go together") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(what_is_missing_or_malformed_is_named) {
  BOOST_TEST(problem_of("mysql://u@h/d") == "not a postgresql:// URI");
  BOOST_TEST(problem_of("postgresql://db.example/d?sslrootcert=/ca").find("no user") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example?sslrootcert=/ca").find("no database") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@/d").find("no host") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example:99999/d").find("is not a port") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example:/d").find("is not a port") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@[::1/d").find("']'") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db%00.example/d").find("badly encoded") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db\\x.example/d").find("not a host name") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example/d e").find("a space") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example/d#frag").find("'#'") != std::string::npos);
  BOOST_TEST(problem_of("postgresql://u@db.example/a%2Fb").find("database") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(quotes_and_backslashes_in_names_are_data) {
  std::string problem;
  const auto t = parse_pg_uri("postgresql://o%27brien%5C@127.0.0.1:999/d%22b?sslmode=disable", &problem, 1024);
  BOOST_REQUIRE_MESSAGE(t, problem);
  BOOST_TEST(t->user == "o'brien\\");
  BOOST_TEST(t->dbname == "d\"b");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::store
