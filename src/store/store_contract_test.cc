// The Store contract, the same tests for every backend: the SQLite file in
// this process, and the same file through the state helper process
// (helper_store.h), which logins use when their caller could stop them.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "base/json.h"
#include "store/helper_protocol.h"
#include "store/helper_store.h"
#include "store/sqlite_store.h"
#include "temp_dir.h"

namespace otp::store {
namespace {

struct Backend {
  const char* name;
  std::function<std::unique_ptr<Store>(const std::string& path)> open;
};
std::ostream& operator<<(std::ostream& out, const Backend& b) { return out << b.name; }

const Backend kBackends[] = {
    {"sqlite", [](const std::string& path) { return open_sqlite_store(path); }},
    {"helper", [](const std::string& path) { return open_helper_store(path, {PAM_OTP_STATE_HELPER_PATH}); }},
};

struct Fixture {
  testing::TempDir dir;
  std::string path = dir.path() + "/state/state.db";
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(store_contract, Fixture)

BOOST_DATA_TEST_CASE(the_hash_key_is_made_once, boost::unit_test::data::make(kBackends), backend) {
  const Secret key = backend.open(path)->hash_key();
  BOOST_TEST(key.size() == 32u);
  BOOST_TEST(backend.open(path)->hash_key().reveal() == key.reveal());
  BOOST_TEST(open_sqlite_store(path)->hash_key().reveal() == key.reveal());  // one file, one key
}

BOOST_DATA_TEST_CASE(a_recovery_code_is_used_once, boost::unit_test::data::make(kBackends), backend) {
  auto store = backend.open(path);
  BOOST_TEST(!store->recovery_codes("alice"));
  store->set_recovery_codes("alice", "salt", {"h1", "h2"}, 1000);
  auto batch = store->recovery_codes("alice");
  BOOST_REQUIRE(batch);
  BOOST_TEST(batch->salt == "salt");
  BOOST_TEST(batch->issued_at == 1000);
  BOOST_REQUIRE(batch->codes.size() == 2u);
  BOOST_TEST(batch->codes[1].hash == "h2");
  BOOST_TEST(!batch->codes[0].used_at);
  const auto id = batch->codes[0].id;
  BOOST_TEST(!store->use_recovery_code("bob", id, "h1", 1001, "sshd"));  // not bob's
  BOOST_TEST(!store->use_recovery_code("alice", id, "h2", 1001, "sshd"));  // not that code
  BOOST_TEST(store->use_recovery_code("alice", id, "h1", 1001, "sshd"));
  BOOST_TEST(!store->use_recovery_code("alice", id, "h1", 1002, "sshd"));  // once
  batch = store->recovery_codes("alice");
  BOOST_TEST(*batch->codes[0].used_at == 1001);
  BOOST_TEST(batch->codes[0].used_by == "sshd");
  store->set_recovery_codes("alice", "salt2", {"h3"}, 2000);  // a new batch replaces the old
  BOOST_TEST(store->recovery_codes("alice")->codes.size() == 1u);
  // Ids are reused: a login that read the old batch cannot use a new code
  // with its old code's id.
  const auto new_id = store->recovery_codes("alice")->codes[0].id;
  BOOST_TEST(!store->use_recovery_code("alice", new_id, "h1", 2001, "sshd"));
  BOOST_TEST(!store->recovery_codes("alice")->codes[0].used_at);
  store->set_recovery_codes("alice", "", {}, 3000);
  BOOST_TEST(!store->recovery_codes("alice"));
}

BOOST_DATA_TEST_CASE(a_remembered_login_expires_and_can_be_forgotten, boost::unit_test::data::make(kBackends),
                     backend) {
  auto store = backend.open(path);
  store->remember({"alice", "k1", "sshd", 1000, 2000});
  store->remember({"bob", "k2", "sshd", 1000, 1500});
  BOOST_TEST(store->is_remembered("alice", "k1", 1999, 0));
  BOOST_TEST(!store->is_remembered("alice", "k1", 2000, 0));  // absolute expiry
  BOOST_TEST(!store->is_remembered("alice", "k1", 1500, 1000));  // stored before not_before (remember shortened)
  BOOST_TEST(!store->is_remembered("alice", "k2", 1001, 0));
  BOOST_TEST(store->remembered("", 1001).size() == 2u);
  BOOST_TEST(store->remembered("bob", 1600).empty());
  store->forget("alice");
  BOOST_TEST(!store->is_remembered("alice", "k1", 1001, 0));
  BOOST_TEST(store->is_remembered("bob", "k2", 1001, 0));
  store->remember({"bob", "k3", "sshd", 1600, 2600});  // prunes bob's expired k2
  BOOST_TEST(store->remembered("", 0).size() == 1u);
}

BOOST_DATA_TEST_CASE(take_counts_against_every_limit_or_records_nothing, boost::unit_test::data::make(kBackends),
                     backend) {
  auto store = backend.open(path);
  const std::vector<Limit> limits = {{"send_user", "alice", 2, 900}, {"send_rhost", "r1", 3, 3600}};
  BOOST_TEST(!store->take(limits, 1000));
  BOOST_TEST(!store->take(limits, 1100));
  const auto reached = store->take(limits, 1200);
  BOOST_REQUIRE(reached);
  BOOST_TEST(reached->index == 0u);
  BOOST_TEST(reached->retry_after == 700);  // the first send leaves the window at 1900
  BOOST_TEST(store->count("send_rhost", "r1", 0) == 2);  // nothing recorded when refused
  BOOST_TEST(!store->take(limits, 1900));  // the first send has left the user's window
  const auto rhost = store->take({{"send_user", "bob", 5, 900}, {"send_rhost", "r1", 3, 3600}}, 1950);
  BOOST_REQUIRE(rhost);
  BOOST_TEST(rhost->index == 1u);
  store->forget("alice");
  BOOST_TEST(store->count("send_user", "alice", 0) == 0);
  BOOST_TEST(store->count("send_rhost", "r1", 0) == 3);  // per address, not the user's
}

BOOST_DATA_TEST_CASE(an_address_or_a_user_can_be_forgotten, boost::unit_test::data::make(kBackends), backend) {
  auto store = backend.open(path);
  const std::string r1(64, 'a'), r2(64, 'b');
  for (const auto& [rhost, user] : {std::pair{r1, "alice"}, std::pair{r1, "al:ice"}, std::pair{r2, "alice"}})
    BOOST_TEST(!store->take({{kSendRhost, rhost, 100, 3600}, {kSendUserRhost, user_rhost_key(rhost, user), 100, 3600}},
                            1000));
  store->forget("alice");  // alice's share of every address, not al:ice's
  BOOST_TEST(store->count(kSendUserRhost, user_rhost_key(r1, "alice"), 0) == 0);
  BOOST_TEST(store->count(kSendUserRhost, user_rhost_key(r2, "alice"), 0) == 0);
  BOOST_TEST(store->count(kSendUserRhost, user_rhost_key(r1, "al:ice"), 0) == 1);
  BOOST_TEST(store->count(kSendRhost, r1, 0) == 2);
  store->forget_rhost(r1);  // the address and every user's share of it
  BOOST_TEST(store->count(kSendRhost, r1, 0) == 0);
  BOOST_TEST(store->count(kSendUserRhost, user_rhost_key(r1, "al:ice"), 0) == 0);
  BOOST_TEST(store->count(kSendRhost, r2, 0) == 1);
}

BOOST_DATA_TEST_CASE(a_store_that_cannot_be_opened_says_why, boost::unit_test::data::make(kBackends), backend) {
  BOOST_REQUIRE(::mkdir((dir.path() + "/open").c_str(), 0777) == 0);
  ::chmod((dir.path() + "/open").c_str(), 0777);
  try {
    backend.open(dir.path() + "/open/state.db");
    BOOST_FAIL("opened a store in a directory anyone can write to");
  } catch (const HelperUnavailable&) {
    BOOST_FAIL("the helper ran, and its store said no: not the helper's failure");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("is writable by group or others") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()

// The helper itself: what it needs, and what it does with nonsense.
BOOST_FIXTURE_TEST_SUITE(state_helper, Fixture)

BOOST_AUTO_TEST_CASE(a_helper_that_cannot_run_is_this_machines_failure) {
  for (const std::string& helper : {dir.path() + "/missing", std::string("relative/helper"), dir.path()}) {
    BOOST_TEST_CONTEXT(helper) {
      BOOST_CHECK_THROW(open_helper_store(path, {helper}), HelperUnavailable);
    }
  }
  // A program that is no helper: it ends without answering.
  BOOST_CHECK_THROW(open_helper_store(path, {"/bin/true"}), HelperUnavailable);
}

BOOST_AUTO_TEST_CASE(a_helper_that_does_not_answer_is_given_up_within_the_budget) {
  // (sleep takes the state file for a number of seconds and never answers.)
  const auto started = std::chrono::steady_clock::now();
  BOOST_CHECK_THROW(open_helper_store("30", {"/bin/sleep", std::chrono::milliseconds(200), std::chrono::milliseconds(100)}),
                    Error);
  BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(5)));
}

// A login left at its prompt outlives its helper (5 minutes idle): the
// next call starts a new one.
BOOST_AUTO_TEST_CASE(a_helper_that_ended_while_idle_is_started_again) {
  HelperOptions options{PAM_OTP_STATE_HELPER_PATH};
  options.idle_seconds = 1;
  auto store = open_helper_store(path, options);
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1000));
  ::usleep(1500000);
  BOOST_TEST(!store->take({{kSendUser, "alice", 5, 900}}, 1001));
  BOOST_TEST(store->count(kSendUser, "alice", 0) == 2);
}

BOOST_AUTO_TEST_CASE(requests_that_make_no_sense_get_an_error_not_a_crash) {
  auto store = open_sqlite_store(path);
  for (const char* text : {"null", "{}", R"({"op":"take"})", R"({"op":"take","limits":"x","now":1})",
                           R"({"op":"take","limits":[{"kind":1}],"now":1})", R"({"op":"drop_tables"})",
                           R"({"op":"use_recovery_code","user":"a","id":1,"hash":"%%%","now":1,"service":"s"})",
                           R"({"op":"count","kind":"k","key":"k","since":1e300})"}) {
    BOOST_TEST_CONTEXT(text) {
      const Json::Value answer = protocol::serve(*store, json::parse(text).value_or(Json::Value()));
      BOOST_TEST(answer["ok"].asBool() == false);
      BOOST_TEST(answer["error"].asString().find("malformed") != std::string::npos, answer["error"].asString());
    }
  }
}

BOOST_AUTO_TEST_CASE(answers_that_make_no_sense_are_errors) {
  Json::Value answer = *json::parse(R"({"ok":false,"error":"disk full"})");
  try {
    protocol::result_of(answer);
    BOOST_FAIL("an error answer read as a result");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()) == "disk full");
  }
  for (const char* text : {"null", "{}", R"({"ok":"yes"})", R"({"ok":true})"}) {
    BOOST_CHECK_THROW(protocol::result_of(json::parse(text).value_or(Json::Value())), Error);
  }
  BOOST_CHECK_THROW(protocol::read_hash_key(Json::Value(42)), Error);
  BOOST_CHECK_THROW(protocol::read_bool(Json::Value("true")), Error);
  BOOST_CHECK_THROW(protocol::read_limit_reached(*json::parse(R"({"index":-1,"retry_after":5})")), Error);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::store
