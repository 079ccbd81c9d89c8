#include "config/directory_settings.h"

#include <boost/test/unit_test.hpp>

#include <sstream>

#include "config/loader.h"
#include "config/settings.h"
#include "example_provider.h"
#include "temp_dir.h"

using namespace otp;
using namespace otp::config;
using otp::testing::TempDir;

namespace {

struct Fixture {
  TempDir dir;
  std::string users = dir.write("users", "alice phone=+15551234567\n", 0644);
  std::string ca = dir.write("ca.pem", "not read here: libldap reads it\n", 0644);
  std::string password = dir.write("ldap-password", "s3cret-ldap\n", 0600);

  // `top` first (so that it may set top-level keys), then [directory] with `table`.
  std::unique_ptr<Loaded> load(const std::string& top, const std::string& table, Problems& p) {
    const std::string path = dir.write("pam_otp.conf",
                                       "users_file = \"" + users + "\"\n" + top + "\n[directory]\n" + table + "\n" +
                                           testing::mock_provider_toml("\"https://otp.example\""),
                                       0600);
    return config::load({"config=" + path}, p);
  }
  std::string good() const {
    return "uri = [\"ldaps://ldap1.example\", \"ldap://ldap2.example:389\"]\nca_file = \"" + ca +
           "\"\nbind_dn = \"cn=pam-otp,dc=example,dc=com\"\nbind_password_file = \"" + password +
           "\"\nbase = \"dc=example,dc=com\"\ndefault_region = \"US\"\n"
           "[directory.attributes]\nsms = \"mobile\"\nemail = \"mail\"\nvoice = \"telephoneNumber\"";
  }
  std::string problems_of(const std::string& top, const std::string& table) {
    Problems p;
    BOOST_TEST(!load(top, table, p));
    return testing::problem_lines(p);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(directory_settings, Fixture)

BOOST_AUTO_TEST_CASE(a_directory_is_read_with_its_password_and_shown_without_it) {
  Problems p;
  const auto loaded = load("", good(), p);
  const std::string why = p.list().empty() ? std::string() : p.list().front().to_string();
  BOOST_REQUIRE_MESSAGE(loaded, why);
  const Config& c = loaded->config;
  BOOST_REQUIRE(c.directory.has_value());
  BOOST_TEST(c.directory->uris.size() == 2u);
  BOOST_TEST(c.directory->bind_password.reveal() == "s3cret-ldap");
  BOOST_TEST(c.directory->attributes.size() == 3u);
  BOOST_TEST(c.directory->timeout_ms == 3000);
  BOOST_TEST((c.destinations == std::vector<std::string>{"users_file", "directory"}));
  std::ostringstream shown;
  shown << shown_settings(c);
  BOOST_TEST(shown.str().find("s3cret-ldap") == std::string::npos);
  BOOST_TEST(shown.str().find("ldaps://ldap1.example") != std::string::npos, shown.str());
  Problems q;
  const auto directory_first = load("destinations = [\"directory\", \"users_file\"]", good(), q);
  BOOST_REQUIRE(directory_first);
  BOOST_TEST((directory_first->config.destinations == std::vector<std::string>{"directory", "users_file"}));
}

// Every mistake names its key and line.
BOOST_AUTO_TEST_CASE(mistakes_are_config_errors_that_name_the_key) {
  const std::pair<std::string, std::string> bad[] = {
      {"uri = \"http://ldap.example\"", "must start with ldaps://"},
      {"uri = \"ldaps://ldap.example/dc=example,dc=com??sub\"", "a server only"},
      {"uri = \"ldaps://\"", "names no host"},
      {"colour = \"blue\"", "unknown key ([directory] has uri"},
      {"filter = \"(uid=alice)\"", "${user}"},
      {"filter = \"(&(uid=${user})\"", "without its ')'"},
      {"default_region = \"us\"", "two-letter ISO 3166 code"},
      {"bind_password_file = \"/nonexistent/pw\"", "bind_password_file needs bind_dn"},
      {"timeout = 0", "timeout"},
      {"client_cert = \"/etc/ssl/x.pem\"", "client_cert and client_key go together"},
  };
  for (const auto& [line, words] : bad) {
    const std::string base = "uri = \"ldaps://ldap.example\"\nbase = \"dc=example,dc=com\"\n";
    const std::string table = (line.rfind("uri", 0) == 0 ? "base = \"dc=example,dc=com\"\n" : base) + line +
                              "\n[directory.attributes]\nsms = \"mobile\"";
    const std::string text = problems_of("", table);
    BOOST_TEST(text.find(words) != std::string::npos, line << " -> " << text);
    BOOST_TEST(text.find("pam_otp.conf:") != std::string::npos, line << " -> " << text);
  }
  BOOST_TEST(problems_of("", "uri = \"ldaps://l.example\"\nbase = \"dc=x\"\n[directory.attributes]\nfax = \"fax\"")
                 .find("unknown channel") != std::string::npos);
  BOOST_TEST(problems_of("", "uri = \"ldaps://l.example\"\nbase = \"dc=x\"\n[directory.attributes]\n\"sms+email\" = \"mail\"")
                 .find("takes two addresses") != std::string::npos);
  BOOST_TEST(problems_of("deadline = 2", "timeout = 3\n" + good()).find("must fit in deadline (2 s)") !=
             std::string::npos);
  BOOST_TEST(problems_of("", "uri = \"ldaps://l.example\"\nbase = \"dc=x\"\n[directory.attributes]\nsms = \"mo bile\"")
                 .find("not an LDAP attribute name") != std::string::npos);
  BOOST_TEST(problems_of("", "uri = \"ldaps://l.example\"\nbase = \"dc=x\"").find("needs [directory.attributes]") !=
             std::string::npos);
  BOOST_TEST(problems_of("destinations = [\"users_file\", \"users_file\"]", good()).find("twice") != std::string::npos);
  BOOST_TEST(problems_of("destinations = [\"ldap\"]", good()).find("is not a source") != std::string::npos);
  const std::string readable = dir.write("readable", "pw\n", 0644);
  std::string table = good();
  table.replace(table.find(password), password.size(), readable);
  BOOST_TEST(problems_of("", table).find("readable by others") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
