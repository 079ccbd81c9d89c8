// Where codes go when a directory is configured: the sources in order, and
// the login's outcome for each way the directory can fail, through
// run_login with a fake directory (the real one is tested against slapd:
// directory/lookup_test.cc and tests/integration/directory_login).
#include "flow/sources.h"

#include <boost/test/unit_test.hpp>

#include "base/json.h"
#include "example_provider.h"
#include "fakes.h"
#include "store/recovery_codes.h"
#include "store/sqlite_store.h"
#include "temp_dir.h"

using namespace otp;
using namespace otp::flow;
using directory::Failure;
using otp::testing::SeenRequest;

namespace {

struct Fixture {
  testing::TempDir dir;
  std::string users = "alice phone=+15551234567\n";
  std::string top;                       // more top-level config lines
  std::string attributes = "sms = \"mobile\"\nemail = \"mail\"";
  std::string ca = dir.write("ca.pem", "read by libldap, not here\n", 0644);
  testing::FakeConversation conv;
  testing::FakeClock clock;
  testing::CollectingLogger log;
  testing::FakeUserDirectory passwd;
  LoginRequest request{"alice", "sshd", "203.0.113.5", Secret("hunter2"), false, std::nullopt, std::nullopt, "", std::nullopt};
  // The directory: entries by user name, or a failure for every lookup.
  std::map<std::string, directory::Answer> entries;
  std::optional<Failure> failure;
  std::chrono::seconds lookup_takes{0};
  int lookups = 0;
  std::vector<std::string> sent_to;  // the destination of each send

  Fixture() {
    for (const char* name : {"alice", "bob", "carol"}) passwd.users[name] = {"users"};
  }

  static directory::Answer entry(const std::string& dn, std::vector<directory::Found> found) {
    directory::Answer a;
    a.entry = true;
    a.dn = dn;
    a.destinations = std::move(found);
    return a;
  }

  std::unique_ptr<config::Loaded> load() {
    Problems p;
    const std::string path = dir.write(
        "pam_otp.conf", "users_file = \"" + dir.write("users", users, 0644) + "\"\nstate_file = \"" + dir.path() +
                            "/state.db\"\n" + top + "\n[directory]\nuri = \"ldaps://ldap.example\"\nca_file = \"" + ca +
                            "\"\nbase = \"dc=example,dc=com\"\ndefault_region = \"US\"\n[directory.attributes]\n" +
                            attributes + "\n" + testing::mock_provider_toml("\"https://otp.example\""),
        0600);
    auto loaded = config::load({"config=" + path}, p);
    BOOST_REQUIRE_MESSAGE(loaded, testing::problem_lines(p));
    return loaded;
  }

  DirectoryLookup lookup() {
    return [this](const directory::LookupOptions& o, const std::string& user, directory::Clock::time_point deadline) {
      ++lookups;
      BOOST_TEST(o.filter.expand(user) == "(&(objectClass=person)(uid=" + user + "))");
      BOOST_TEST((deadline == clock.now() + std::chrono::seconds(3)));  // the default timeout
      clock.advance(lookup_takes);
      if (failure) throw directory::Unavailable("ldaps://ldap.example: injected", *failure);
      const auto it = entries.find(user);
      return it == entries.end() ? directory::Answer{} : it->second;
    };
  }

  http::Response serve(const SeenRequest& r) {
    if (r.url.find("/send") != std::string::npos) {
      sent_to.push_back((*json::parse(r.body))["to"].asString());
      return testing::json_response(200, R"({"status":"sent","transaction_id":"tx-1"})");
    }
    const bool right = (*json::parse(r.body))["code"].asString() == "123456";
    return right ? testing::json_response(200, R"({"status":"approved"})")
                 : testing::json_response(422, R"({"error":"wrong_code"})");
  }

  AuthResult login() {
    const auto loaded = load();
    Services services{&conv, clock, log, passwd, [this](const http::TlsOptions&) {
                        return std::make_unique<testing::FakeTransport>([this](const SeenRequest& r) { return serve(r); });
                      }};
    services.directory_lookup = lookup();
    return authenticate(*loaded, request, services);
  }

  Known known(const std::string& user) {
    const auto loaded = load();
    return find_destinations(*loaded, user, lookup(), [this] { return clock.now(); });
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(destination_sources, Fixture)

// By default the users file's own line first, then the directory, and the
// users file's "*" line after every source.
BOOST_AUTO_TEST_CASE(the_first_source_that_knows_the_user_decides) {
  users = "alice phone=+15551234567\n* email=${user}@corp.example\n";
  entries["alice"] = entry("uid=alice,dc=example,dc=com", {{"sms", "+12025550143", "mobile value 1"}});
  entries["bob"] = entry("uid=bob,dc=example,dc=com", {{"email", "bob@example.com", "mail value 1"}});
  const Known alice = known("alice");
  BOOST_TEST((alice.status == Known::Status::Listed));
  BOOST_TEST(alice.source == "users_file line 1");
  BOOST_TEST(!alice.asked_directory);
  const Known bob = known("bob");
  BOOST_TEST(bob.source == "directory uid=bob,dc=example,dc=com");
  BOOST_TEST(bob.from_directory);
  BOOST_REQUIRE(bob.listed.size() == 1u);
  BOOST_TEST(bob.listed[0].address == "bob@example.com");
  BOOST_TEST(bob.listed[0].origin == "mail value 1");
  const Known carol = known("carol");  // not in the directory: the "*" line
  BOOST_TEST(carol.source == "users_file \"*\" line 2");
  BOOST_TEST(carol.asked_directory);
  BOOST_TEST(carol.entry.keys.at("email") == "carol@corp.example");
  // The directory first: it overrides alice's line.
  top = "destinations = [\"directory\", \"users_file\"]";
  BOOST_TEST(known("alice").source == "directory uid=alice,dc=example,dc=com");
  top = "destinations = [\"directory\"]";
  users = "";
  const Known nobody = known("carol");
  BOOST_TEST((nobody.status == Known::Status::Nobody));
  BOOST_TEST(nobody.why == "no entry in the directory");
}

// An entry without a usable value says "no destination" for the user: the
// sources after it are not asked.
BOOST_AUTO_TEST_CASE(an_entry_without_a_usable_value_is_unenrolled) {
  top = "destinations = [\"directory\", \"users_file\"]";
  entries["alice"] = entry("uid=alice,dc=example,dc=com", {});
  entries["alice"].left_out = {"mobile value 1 is not a phone number"};
  const Known alice = known("alice");
  BOOST_TEST((alice.status == Known::Status::Nobody));
  BOOST_TEST(alice.why == "the directory's entry uid=alice,dc=example,dc=com has no usable destination");
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(sent_to.empty());
  BOOST_TEST(log.contains("result=unenrolled user=alice"));
  BOOST_TEST(log.contains("directory: user=alice entry=\"uid=alice,dc=example,dc=com\": mobile value 1 is not a phone "
                          "number; left out (never sent to the provider)"));
  top += "\nunenrolled = \"allow\"";
  BOOST_TEST(result_name(login()) == "PAM_IGNORE");
}

// A directory that cannot answer is never "not known", whatever comes after it.
BOOST_AUTO_TEST_CASE(an_outage_is_never_unenrolled) {
  top = "unenrolled = \"allow\"";
  users = "* email=${user}@corp.example\n";
  for (const Failure f : {Failure::Answered, Failure::NoAnswer, Failure::Local, Failure::Untrusted, Failure::Ambiguous}) {
    failure = f;
    const Known bob = known("bob");
    BOOST_TEST((bob.status == Known::Status::Outage));
    BOOST_TEST((bob.failure == f));
    BOOST_TEST(result_name(login()) == "PAM_AUTHINFO_UNAVAIL");
    BOOST_TEST(sent_to.empty());
  }
}

BOOST_AUTO_TEST_CASE(several_values_are_the_menu_and_the_choice_is_sent) {
  top = "channel = \"ask\"";
  users = "";
  entries["alice"] = entry("uid=alice,dc=example,dc=com", {{"sms", "+12025550143", "mobile value 1"},
                                                           {"sms", "+12024561111", "mobile value 2"},
                                                           {"email", "alice@example.com", "mail value 1"}});
  conv.say("2");
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_REQUIRE(!conv.prompts.empty());
  BOOST_TEST(conv.prompts[0].find("3)") != std::string::npos, conv.prompts[0]);
  BOOST_TEST((sent_to == std::vector<std::string>{"+12024561111"}));
  BOOST_TEST(log.contains("source=\"directory uid=alice,dc=example,dc=com\" directory_ms=0"));
  // The configured channel only: the two numbers.
  top = "channel = \"sms\"";
  conv = {};
  conv.say("1");
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(conv.prompts[0].find("3)") == std::string::npos, conv.prompts[0]);
  BOOST_TEST(sent_to.back() == "+12025550143");
}

// The chosen number is the provider's ${phone} too (templates such as
// BlockID's read it), not the entry's first.
BOOST_AUTO_TEST_CASE(the_choice_is_the_entrys_phone_for_templates) {
  Known k;
  k.from_directory = true;
  k.entry.name = "alice";
  k.listed = {{"sms", "+12025550143", {}, "mobile value 1"},
              {"sms", "+12024561111", {}, "mobile value 2"},
              {"email", "alice@example.com", {}, "mail value 1"}};
  const config::UserEntry e = with_choice(k, k.listed[1]);
  BOOST_TEST(e.keys.at("phone") == "+12024561111");
  BOOST_TEST(e.keys.at("email") == "alice@example.com");
}

// Only an answer from a verified server is "remote": under su and sudo a
// caller who can stop the process opens failmode = "safe" on nothing else;
// TLS that did not come up verified, and two entries for one name, open it
// for no one.
BOOST_AUTO_TEST_CASE(failmode_safe_opens_only_on_what_no_one_in_the_middle_can_cause) {
  top = "failmode = \"safe\"\ndestinations = [\"directory\"]";
  struct Case {
    Failure failure;
    bool caller_can_signal;
    const char* result;
  } cases[] = {
      {Failure::Answered, false, "PAM_IGNORE"},         {Failure::Answered, true, "PAM_IGNORE"},
      {Failure::NoAnswer, false, "PAM_IGNORE"},         {Failure::NoAnswer, true, "PAM_AUTHINFO_UNAVAIL"},
      {Failure::Local, true, "PAM_AUTHINFO_UNAVAIL"},   {Failure::Untrusted, false, "PAM_AUTHINFO_UNAVAIL"},
      {Failure::Ambiguous, false, "PAM_AUTHINFO_UNAVAIL"},
  };
  for (const auto& c : cases) {
    failure = c.failure;
    request.caller_can_signal = c.caller_can_signal;
    log.lines.clear();
    BOOST_TEST(result_name(login()) == c.result, static_cast<int>(c.failure) << " " << c.caller_can_signal);
    BOOST_TEST(sent_to.empty());
  }
  failure = Failure::Untrusted;
  login();
  BOOST_TEST(log.contains("result=untrusted_provider"));
  BOOST_TEST(log.contains("TLS to the directory unverified"));
  failure = Failure::Ambiguous;
  login();
  BOOST_TEST(log.contains("a name must find one entry"));
  failure = Failure::NoAnswer;
  request.caller_can_signal = false;
  login();
  BOOST_TEST(log.contains("result=failopen"));
}

// failmode = "recovery": the user's recovery code, and nothing else, opens
// a login whose directory is down.
BOOST_AUTO_TEST_CASE(failmode_recovery_takes_a_recovery_code) {
  top = "failmode = \"recovery\"";
  users = "";
  failure = Failure::Untrusted;
  BOOST_TEST(result_name(login()) == "PAM_AUTHINFO_UNAVAIL");  // no codes yet
  auto store = store::open_sqlite_store(dir.path() + "/state.db");
  const auto codes = store::make_recovery_codes(1);
  const std::string salt = store::make_salt();
  store->set_recovery_codes("alice", salt,
                            {store::hash_recovery_code(*store::normalize_recovery_code(codes[0].reveal()), salt)},
                            clock.unix_time());
  conv.say(std::string(codes[0].reveal()));
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(conv.prompts.back() == "Recovery code: ");
  BOOST_TEST(sent_to.empty());
}

// The directory's time is the login's: what it took is not the provider's
// to spend again.
BOOST_AUTO_TEST_CASE(the_directorys_time_counts_against_the_deadline) {
  top = "deadline = 3";
  users = "";
  entries["alice"] = entry("uid=alice,dc=example,dc=com", {{"sms", "+12025550143", "mobile value 1"}});
  lookup_takes = std::chrono::seconds(3);
  BOOST_TEST(result_name(login()) == "PAM_AUTHINFO_UNAVAIL");
  BOOST_TEST(sent_to.empty());
  BOOST_TEST(log.contains("directory_ms=3000"));
}

BOOST_AUTO_TEST_SUITE_END()
