#include "config/loader.h"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <sstream>

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

  std::string config(const std::string& top, mode_t mode = 0600, const std::string& name = "pam_otp.conf") {
    return dir.write(name, "users_file = \"" + users + "\"\n" + top + "\n" +
                               testing::mock_provider_toml("\"https://otp.example\""), mode);
  }
  std::unique_ptr<Loaded> load_args(std::vector<std::string> args, Problems& p) { return config::load(args, p); }
  static std::string named_provider(const std::string& name, const std::string& url) {
    std::string text = testing::mock_provider_toml("\"" + url + "\"");
    const std::string replacement = "provider." + name;
    for (auto at = text.find("provider.mock"); at != std::string::npos;
         at = text.find("provider.mock", at + replacement.size()))
      text.replace(at, 13, replacement);
    return text;
  }
  static std::string all(const Problems& p) { return testing::problem_lines(p); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(config_loader, Fixture)

BOOST_AUTO_TEST_CASE(defaults_apply) {
  Problems p;
  const auto loaded = load_args({"config=" + config("")}, p);
  BOOST_TEST_INFO(all(p));
  BOOST_REQUIRE(loaded);
  const Config& c = loaded->config;
  BOOST_TEST(c.attempts == 3);
  BOOST_TEST(c.resends == 1);
  BOOST_TEST(c.resend_cooldown == 30);
  BOOST_TEST(c.timeout == 10);
  BOOST_TEST(c.connect_timeout == 3);
  BOOST_TEST(c.deadline == 120);
  BOOST_TEST(c.channel == "sms");
  BOOST_TEST(c.code_pattern.source() == "^[0-9]{4,10}$");
  BOOST_TEST((c.failmode == FailMode::Secure));
  BOOST_TEST((c.unenrolled == Unenrolled::Deny));
  BOOST_TEST(c.provider_name == "mock");
  BOOST_TEST(c.messages.at("wrong_code") == "Incorrect code, {attempts_left} {attempts_word} left.");
  BOOST_TEST(loaded->users.find("alice").has_value());
}

BOOST_AUTO_TEST_CASE(provider_equals_name_beside_its_table_works) {
  // `provider = "corp"` beside `[provider.corp]`, which plain TOML rejects
  // (pam_otp.conf(5) writes it so); the loader accepts it and picks that
  // table among several.
  const auto path = dir.write("c.conf", "provider = \"corp\"  # which table\nusers_file = \"" + users + "\"\n" +
                                            named_provider("other", "https://other.example") +
                                            named_provider("corp", "https://corp.example"));
  Problems p;
  const auto loaded = load_args({"config=" + path}, p);
  BOOST_TEST_INFO(all(p));
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->config.provider_name == "corp");
  BOOST_TEST(loaded->config.provider.base_urls.at(0) == "https://corp.example");
  Problems ambiguous;
  BOOST_TEST(!load_args({"config=" + dir.write("a.conf", "users_file = \"" + users + "\"\n" +
                                                            named_provider("one", "https://1.example") +
                                                            named_provider("two", "https://2.example"))},
                        ambiguous));
  BOOST_TEST(all(ambiguous).find("several [provider.NAME] tables") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_multiline_string_is_never_rewritten) {
  Problems p;
  const auto path = dir.write("m.conf", "code_pattern = \"\"\"\nprovider = 1\"\"\"\nusers_file = \"" + users + "\"\n" +
                                            named_provider("mock", "https://otp.example"));
  const auto loaded = load_args({"config=" + path}, p);
  BOOST_TEST_INFO(all(p));
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->config.code_pattern.source() == "provider = 1");  // the string's text is untouched
}

BOOST_AUTO_TEST_CASE(selection_names_a_missing_table) {
  Problems p;
  BOOST_TEST(!load_args({"config=" + config("provider = \"corp\"")}, p));
  BOOST_TEST(all(p).find("there is no [provider.corp] table (defined: mock)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(module_arguments_override_the_file) {
  Problems p;
  const auto loaded = load_args({"config=" + config("attempts = 5"), "attempts=2", "failmode=safe", "echo_code=true",
                                 "debug", "code_pattern=^[0-9]{6}$", "provider=mock"}, p);
  BOOST_TEST_INFO(all(p));
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->config.attempts == 2);
  BOOST_TEST((loaded->config.failmode == FailMode::Safe));
  BOOST_TEST(loaded->config.echo_code);
  BOOST_TEST(loaded->config.debug);
  BOOST_TEST(loaded->config.code_pattern.source() == "^[0-9]{6}$");  // not TOML: read as a string
}

BOOST_AUTO_TEST_CASE(errors_name_file_line_and_key) {
  Problems p;
  const auto path = config("attempts = \"three\"\ncolour = \"red\"\nfailmode = \"open\"\ntimeout = 0");
  BOOST_TEST(!load_args({"config=" + path}, p));
  const std::string text = all(p);
  BOOST_TEST_INFO(text);
  BOOST_TEST(text.find(path + ":2: key 'attempts': must be an integer, not string") != std::string::npos);
  BOOST_TEST(text.find(path + ":3: key 'colour': unknown key") != std::string::npos);
  BOOST_TEST(text.find(path + ":4: key 'failmode': must be one of secure, safe, recovery, not 'open'") != std::string::npos);
  BOOST_TEST(text.find(path + ":5: key 'timeout': must be from 1 to 300") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(syntax_errors_name_the_line) {
  Problems p;
  const auto path = dir.write("bad.conf", "attempts = 3\nfailmode = secure\n");
  BOOST_TEST(!load_args({"config=" + path}, p));
  BOOST_TEST(all(p).find(path + ":2: TOML syntax error") != std::string::npos);
}

// Found by fuzz_config: toml++ 3.3.0 aborted debug builds on these table headers.
BOOST_AUTO_TEST_CASE(malformed_table_headers_are_syntax_errors) {
  for (const std::string header : {"[\nprovider.corp]", "[=", "[[[a]]]", "[ #"}) {
    Problems p;
    const auto path = dir.write("bad.conf", "attempts = 3\n" + header + "\n");
    BOOST_TEST(!load_args({"config=" + path}, p));
    BOOST_TEST(all(p).find(path + ":2: TOML syntax error") != std::string::npos, header);
  }
  Problems p;
  BOOST_TEST(!load_args({"config=" + config(""), "[=1"}, p));
  BOOST_TEST(all(p).find("module argument 2 ([=1)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_module_argument) {
  Problems p;
  BOOST_TEST(!load_args({"config=" + config(""), "attempts=many", "nonsense"}, p));
  const std::string text = all(p);
  BOOST_TEST(text.find("module argument 2 (attempts=many)") != std::string::npos);
  BOOST_TEST(text.find("module argument 3 (nonsense)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unsafe_files_are_refused_with_the_rule) {
  Problems world_readable;
  BOOST_TEST(!load_args({"config=" + config("", 0644)}, world_readable));
  BOOST_TEST(all(world_readable).find("holds secrets and is readable by others") != std::string::npos);
  Problems group_writable;
  BOOST_TEST(!load_args({"config=" + config("", 0620)}, group_writable));
  BOOST_TEST(all(group_writable).find("writable by group or others") != std::string::npos);
  Problems group_readable;
  BOOST_TEST(!load_args({"config=" + config("", 0640)}, group_readable));
  BOOST_TEST(all(group_readable).find("readable by its group") != std::string::npos);
  Problems missing;
  BOOST_TEST(!load_args({"config=" + dir.path() + "/nope.conf"}, missing));
  BOOST_TEST(all(missing).find("nope.conf: cannot open") != std::string::npos);
  Problems symlink;
  const auto target = config("");
  BOOST_REQUIRE(::symlink(target.c_str(), (dir.path() + "/link.conf").c_str()) == 0);
  BOOST_TEST(!load_args({"config=" + dir.path() + "/link.conf"}, symlink));
  BOOST_TEST(all(symlink).find("symbolic link") != std::string::npos);
  Problems directory;
  BOOST_TEST(!load_args({"config=" + dir.path()}, directory));
  BOOST_TEST(all(directory).find("not a regular file") != std::string::npos);
  Problems big;
  BOOST_TEST(!load_args({"config=" + dir.write("big.conf", "# " + std::string(2 << 20, 'x'))}, big));
  BOOST_TEST(all(big).find("larger than") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secrets_file_merges_over_the_config) {
  const auto secrets = dir.write("secrets", "[provider.mock]\napi_key = \"from-secrets\"\n");
  Problems p;
  const auto loaded = load_args({"config=" + config("secrets_file = \"" + secrets + "\"")}, p);
  BOOST_TEST_INFO(all(p));
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->config.provider.vars.at("api_key").asString() == "from-secrets");
  Problems readable;
  dir.write("secrets", "[provider.mock]\napi_key = \"x\"\n", 0604);
  BOOST_TEST(!load_args({"config=" + config("secrets_file = \"" + secrets + "\"")}, readable));
  BOOST_TEST(all(readable).find(secrets + ": holds secrets and is readable by others") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_shared_store_is_read_with_its_password_and_files) {
  const auto ca = dir.write("db-ca.pem", "not checked here: libpq reads it\n", 0644);
  const auto password = dir.write("db-password", "s3cret-db\nignored\n", 0600);
  Problems p;
  const auto loaded = load_args({"config=" + config("state_store = \"postgresql://pam_otp@db.example/pam_otp?sslrootcert=" + ca +
                                                   "\"\nstate_password_file = \"" + password + "\"\nstore_timeout = 0.5")},
                                p);
  BOOST_TEST_INFO(all(p));
  BOOST_REQUIRE(loaded);
  const Config& c = loaded->config;
  BOOST_REQUIRE(c.store_target);
  BOOST_TEST(c.store_target->hosts.at(0).name == "db.example");
  BOOST_TEST(c.state_password.reveal() == "s3cret-db");
  BOOST_TEST(c.store_timeout_ms == 500);
  const std::string shown = [&] {
    std::ostringstream out;
    out << shown_settings(c);
    return out.str();
  }();
  BOOST_TEST(shown.find("s3cret-db") == std::string::npos);
  BOOST_TEST(shown.find("postgresql://pam_otp@db.example/pam_otp") != std::string::npos, shown);
}

BOOST_AUTO_TEST_CASE(a_shared_store_that_is_not_safe_is_a_config_error_naming_the_line) {
  const auto ca = dir.write("db-ca.pem", "x\n", 0644);
  const auto password = dir.write("db-password", "pw\n", 0644);  // readable by others
  auto problems_of = [&](const std::string& top) {
    Problems p;
    BOOST_TEST(!load_args({"config=" + config(top)}, p));
    return all(p);
  };
  const std::string uri = "\"postgresql://pam_otp@db.example/pam_otp?sslrootcert=" + ca + "\"";
  std::string text = problems_of("state_store = " + uri + "\nstate_password_file = \"" + password + "\"");
  BOOST_TEST(text.find("state_password_file") != std::string::npos, text);
  BOOST_TEST(text.find("readable by others") != std::string::npos, text);
  text = problems_of("state_store = " + uri);  // over TCP without a password or certificate
  BOOST_TEST(text.find("needs state_password_file") != std::string::npos, text);
  text = problems_of("\n\nstate_store = \"postgresql://pam_otp@db.example/pam_otp?sslmode=disable\"");
  BOOST_TEST(text.find(":4:") != std::string::npos, text);  // the line (after users_file and a blank one)
  BOOST_TEST(text.find("which is not loopback") != std::string::npos, text);
  for (const char* with_password : {"postgresql://pam_otp:hunter2@db.example/pam_otp",
                                    "postgresql://pam_otp@db.example/pam_otp?password=hunter2",
                                    "postgresql://pam_otp@db.example/pam_otp?pass%77ord=hunter2"}) {
    text = problems_of(std::string("state_store = \"") + with_password + "\"");
    BOOST_TEST(text.find("state_password_file") != std::string::npos, text);
    BOOST_TEST(text.find("hunter2") == std::string::npos, text);
  }
  text = problems_of("state_store = \"postgresql://pam_otp@db.example/pam_otp?sslrootcert=/nonexistent/ca.pem\"\n"
                     "state_password_file = \"" + dir.write("pw2", "pw\n", 0600) + "\"");
  BOOST_TEST(text.find("sslrootcert '/nonexistent/ca.pem'") != std::string::npos, text);
  for (const char* bad : {"0.05", "31", "\"1s\"", "true"})
    BOOST_TEST(problems_of(std::string("store_timeout = ") + bad).find("from 0.1 to 30") != std::string::npos, bad);
  // An encrypted client key (PKCS#8 and the older PEM header): a login has
  // nobody to type its passphrase.
  const auto cert = dir.write("client.pem", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n", 0644);
  for (const char* pem : {"-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n",
                          "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nx\n"
                          "-----END EC PRIVATE KEY-----\n"}) {
    const auto key = dir.write("client.key", pem, 0600);
    text = problems_of("state_store = \"postgresql://pam_otp@db.example/pam_otp?sslrootcert=" + ca + "&sslcert=" + cert +
                       "&sslkey=" + key + "\"");
    BOOST_TEST(text.find("sslkey '" + key + "' is encrypted") != std::string::npos, text);
  }
  const auto plain = dir.write("plain.key", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n", 0600);
  Problems fine;
  BOOST_TEST(load_args({"config=" + config("state_store = \"postgresql://pam_otp@db.example/pam_otp?sslrootcert=" + ca +
                                           "&sslcert=" + cert + "&sslkey=" + plain + "\"")},
                       fine),
             all(fine));
}

BOOST_AUTO_TEST_CASE(values_are_validated) {
  Problems p;
  BOOST_TEST(!load_args({"config=" + config("code_pattern = \"[0-9\"\nexempt_networks = [\"10.0.0.0/33\"]\n"
                                            "ca_file = \"/nonexistent/ca.pem\"\nconnect_timeout = 20\n"
                                            "[messages]\nwrong_code = \"{nope}\"\nfoo = \"x\"")}, p));
  const std::string text = all(p);
  BOOST_TEST_INFO(text);
  BOOST_TEST(text.find("key 'code_pattern': is not a valid POSIX extended regular expression") != std::string::npos);
  BOOST_TEST(text.find("'10.0.0.0/33' is not an IPv4 or IPv6 network") != std::string::npos);
  BOOST_TEST(text.find("key 'ca_file': '/nonexistent/ca.pem' cannot open: No such file or directory") != std::string::npos, text);
  BOOST_TEST(text.find(":5: key 'connect_timeout': must not be longer than timeout (10 s)") != std::string::npos);
  BOOST_TEST(text.find("key 'messages.wrong_code': unknown placeholder {nope}") != std::string::npos);
  BOOST_TEST(text.find("key 'messages.foo': unknown message") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_default_connect_timeout_follows_a_shorter_timeout) {
  Problems p;
  const auto loaded = load_args({"config=" + config("timeout = 2")}, p);
  BOOST_TEST_INFO(all(p));
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->config.connect_timeout == 2);
}

BOOST_AUTO_TEST_CASE(users_file_problems_fail_the_load) {
  dir.write("users", "alice phone=5551234\n", 0644);
  Problems p;
  BOOST_TEST(!load_args({"config=" + config("")}, p));
  BOOST_TEST(all(p).find(users + ":1: key 'phone': '5551234' is not an E.164 number") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
