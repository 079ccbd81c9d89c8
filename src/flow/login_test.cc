#include "flow/login.h"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <functional>
#include <limits>
#include <thread>

#include "base/json.h"
#include "example_provider.h"
#include "flow/session.h"
#include "store/link_store.h"
#include "store/recovery_codes.h"
#include "store/sqlite_store.h"
#include "fakes.h"
#include "temp_dir.h"

using namespace otp;
using namespace otp::flow;
using otp::testing::json_response;
using otp::testing::SeenRequest;

namespace {

// A scripted provider speaking the mock's API.
struct FakeApi {
  std::string code = "123456";
  bool down = false;
  std::optional<http::Response> send_failure;  // what the send gets instead of an answer
  long send_status = 200;
  std::string send_body = R"({"status":"sent","transaction_id":"tx-1","masked_to":"+1******4567","request_id":"req-7"})";
  long lock_seconds_at_verify = 0;
  bool expire_next = false;
  int sends = 0, verifies = 0;
  std::vector<SeenRequest> seen;

  http::Response operator()(const SeenRequest& r) {
    seen.push_back(r);
    if (down) return testing::failed_response(http::Failure::Connect, "Connection refused");
    if (r.url.find("/send") != std::string::npos) {
      ++sends;
      if (send_failure) return *send_failure;
      return json_response(send_status, send_body, {{"retry-after", "840"}});
    }
    ++verifies;
    if (lock_seconds_at_verify > 0)
      return json_response(423, R"({"error":"locked","message":"Too many failed attempts","retry_after":)" +
                                    std::to_string(lock_seconds_at_verify) + "}");
    if (expire_next) {
      expire_next = false;
      return json_response(410, R"({"error":"expired"})");
    }
    const auto body = json::parse(r.body);
    if ((*body)["code"].asString() == code) return json_response(200, R"({"status":"approved","request_id":"req-8"})");
    return json_response(422, R"({"error":"wrong_code","attempts_left":4})");
  }
};

struct Fixture {
  testing::TempDir dir;
  std::string users = dir.write("users", "alice phone=+15551234567\nbob email=bob@example.com channel=email\n", 0644);
  std::string extra;  // more top-level config lines
  FakeApi api;
  testing::FakeConversation conv;
  testing::FakeClock clock;
  testing::CollectingLogger log;
  testing::FakeUserDirectory directory;
  LoginRequest request{"alice", "sshd", "203.0.113.5", Secret("hunter2"), false, std::nullopt, std::nullopt, "", std::nullopt};
  int transports_made = 0;
  bool with_conversation = true;
  std::optional<StoreOpener> opener;  // the state file through something else
  SharedStoreOpener shared_opener;    // the shared store (state_store), if any
  bool counted_sends_only = false;
  std::string provider_toml;  // instead of the mock's [provider.mock]
  std::function<http::Response(const SeenRequest&)> serve;  // instead of api

  Fixture() {
    directory.users["alice"] = {"users"};
    directory.users["bob"] = {"users"};
    directory.users["nobody"] = {};
  }

  // The local state, in this test's directory (never /var/lib).
  std::string state_file() const { return dir.path() + "/state/state.db"; }

  AuthResult login() {
    const auto path = dir.write("pam_otp.conf", "users_file = \"" + users + "\"\n" + extra + "\n" +
                                                    (provider_toml.empty() ? testing::mock_provider_toml("\"https://otp.example\"")
                                                                           : provider_toml));
    Services services{with_conversation ? &conv : nullptr, clock, log, directory,
                      [this](const http::TlsOptions&) {
                        ++transports_made;
                        return std::make_unique<testing::FakeTransport>(
                            [this](const SeenRequest& r) { return serve ? serve(r) : api(r); });
                      }};
    if (opener) services.open_store = *opener;
    services.open_shared_store = shared_opener;
    services.counted_sends_only = counted_sends_only;
    return run_login({"config=" + path, "state_file=" + state_file()}, request, services);
  }
  std::string errors() const {
    std::string out;
    for (const auto& e : conv.errors) out += e + "\n";
    return out;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(login_flow, Fixture)

BOOST_AUTO_TEST_CASE(right_code_first_time) {
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_REQUIRE(conv.prompts.size() == 1u);
  BOOST_TEST(conv.prompts[0].find("+1******4567") != std::string::npos);  // destination inside the prompt
  BOOST_TEST(conv.echoes[0] == false);
  BOOST_TEST(api.sends == 1);
  BOOST_TEST(api.verifies == 1);
  BOOST_TEST(log.contains("result=success user=alice rhost=203.0.113.5 service=sshd provider=mock channel=sms "
                          "destination=+1******4567 attempts=1"));
  BOOST_TEST(log.contains("request_id=req-8"));
}

BOOST_AUTO_TEST_CASE(answer_is_trimmed) {
  conv.say("  123456 \n");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
}

BOOST_AUTO_TEST_CASE(wrong_then_right) {
  conv.say("111111");
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(errors() == "Incorrect code, 2 attempts left.\n");
  BOOST_TEST(log.contains("attempts=2"));
}

BOOST_AUTO_TEST_CASE(attempts_exhausted) {
  for (int i = 0; i < 5; ++i) conv.say("111111");
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(api.verifies == 3);
  BOOST_TEST(conv.prompts.size() == 3u);
  BOOST_TEST(conv.errors.back() == "Incorrect code. No attempts left.");
  BOOST_TEST(log.contains("result=max_tries"));
}

BOOST_AUTO_TEST_CASE(answers_not_matching_the_pattern_cost_an_attempt_locally) {
  conv.say("12ab");
  conv.say("1");
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.verifies == 1);
  BOOST_TEST(errors().find("That is not a valid code, 2 attempts left.") != std::string::npos);
  BOOST_TEST(errors().find("That is not a valid code, 1 attempt left.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(empty_answer_resends_after_the_cooldown) {
  conv.say("");                                                   // too soon
  conv.answers.push_back([this](const std::string&) { clock.advance(std::chrono::seconds(31)); return std::string(); });
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == 2);
  BOOST_TEST(errors().find("Please wait 30 seconds") != std::string::npos);
  BOOST_TEST(conv.infos.at(0) == "A new code was sent to +1******4567.");
  BOOST_TEST(conv.prompts.at(0).find("Enter for a new one") != std::string::npos);
  BOOST_TEST(conv.prompts.at(2).find("Enter for a new one") == std::string::npos);  // no resend left
}

BOOST_AUTO_TEST_CASE(empty_answer_without_resends_costs_an_attempt) {
  extra = "resends = 0";
  conv.say("");
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == 1);
  BOOST_TEST(errors().find("not a valid code, 2 attempts left") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(expired_code_offers_a_resend_without_cooldown) {
  api.expire_next = true;
  conv.say("123456");
  conv.say("");
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == 2);
  BOOST_TEST(errors().find("The code has expired. Press Enter to get a new one.") != std::string::npos);
}

// Found by fuzz_flow: an expired code cost nothing, so wrong, wrong, expired
// and another code made a fourth verify request with attempts = 3.
BOOST_AUTO_TEST_CASE(an_expired_code_costs_an_attempt) {
  conv.say("111111");
  conv.say("222222");
  conv.answers.push_back([this](const std::string&) {
    api.expire_next = true;
    return std::string("333333");
  });
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(api.verifies == 3);
  BOOST_TEST(conv.prompts.size() == 3u);
  BOOST_TEST(conv.errors.back() == "The code has expired.");
  BOOST_TEST(log.contains("result=expired"));
  BOOST_TEST(log.contains("no attempt is left"));
}

BOOST_AUTO_TEST_CASE(expired_code_without_resend_fails) {
  extra = "resends = 0";
  api.expire_next = true;
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(errors() == "The code has expired.\n");
}

BOOST_AUTO_TEST_CASE(lockout_at_send_never_prompts) {
  api.send_status = 423;
  api.send_body = R"({"error":"locked","message":"Too many failed attempts","retry_after":840})";
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(conv.prompts.empty());
  BOOST_TEST(errors() == "Too many failed attempts. Try again in 14 minutes.\n");
  BOOST_TEST(log.contains("result=locked"));
}

// Found by fuzz_flow: a huge retry_after was undefined behaviour (double to
// long); it is capped, and the minutes are rounded up without overflowing.
BOOST_AUTO_TEST_CASE(lockout_with_a_huge_wait) {
  api.send_status = 423;
  api.send_body = R"({"error":"locked","message":"Locked","retry_after":3.59539e+307})";
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(errors() == "Locked. Try again in 16666667 minutes.\n");
  BOOST_TEST(minutes_for(61) == 2);
  BOOST_TEST(minutes_for(std::numeric_limits<long>::max()) == std::numeric_limits<long>::max() / 60 + 1);
}

// Each placeholder in its own unit, whichever message names it: {seconds}
// in retry_in printed minutes, {minutes} in resend_wait printed seconds.
BOOST_AUTO_TEST_CASE(custom_messages_get_minutes_and_seconds_each_in_its_unit) {
  extra = R"(messages = { retry_in = "Wait {seconds} s ({minutes} min)." })";
  api.send_status = 423;
  api.send_body = R"({"error":"locked","message":"Too many failed attempts","retry_after":840})";
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(errors() == "Too many failed attempts. Wait 840 s (14 min).\n");
}

BOOST_AUTO_TEST_CASE(resend_wait_in_minutes_rounds_up) {
  extra = R"(messages = { resend_wait = "Wait {minutes} min ({seconds} s)." })";
  conv.say("");  // too soon: the cooldown is 30 s
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(errors().find("Wait 1 min (30 s).") != std::string::npos, errors());
}

BOOST_AUTO_TEST_CASE(lockout_at_verify) {
  api.lock_seconds_at_verify = 60;
  conv.say("111111");
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(errors().find("Try again in 1 minutes.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rate_limit_uses_retry_after_header_when_body_has_none) {
  api.send_status = 429;
  api.send_body = R"({"error":"rate_limited"})";
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(errors() == "Too many codes requested. Try again in 14 minutes.\n");
}

BOOST_AUTO_TEST_CASE(provider_down_failmode_secure_and_safe) {
  api.down = true;
  BOOST_TEST(result_name(login()) == "PAM_AUTHINFO_UNAVAIL");
  BOOST_TEST(errors() == "The code service is unavailable.\n");
  BOOST_TEST(conv.prompts.empty());

  extra = "failmode = \"safe\"";
  conv.errors.clear();
  log.lines.clear();
  BOOST_TEST(result_name(login()) == "PAM_IGNORE");
  BOOST_TEST(log.contains("WITHOUT a code"));
  BOOST_TEST(log.lines.back().first == LOG_WARNING);
}

// su and sudo run with their caller's real uid: the caller can stop the
// process (SIGSTOP) or lower its limits, and so make the exchange time out
// or fail on this machine. failmode = "safe" then lets a login through only
// on what they cannot produce: a refused connection, an HTTP 5xx.
BOOST_AUTO_TEST_CASE(failmode_safe_when_the_caller_can_signal_the_process) {
  extra = "failmode = \"safe\"\nsend_limit = {}";  // many logins in a row
  auto connect = [](int os_error) {
    auto r = testing::failed_response(http::Failure::Connect, "Failed to connect");
    r.os_error = os_error;
    return r;
  };
  struct Case {
    const char* what;
    http::Response answer;
    bool opens_for_a_signalling_caller;
  };
  const Case cases[] = {
      {"timeout", testing::failed_response(http::Failure::Timeout, "Operation timed out"), false},
      {"reset", testing::failed_response(http::Failure::Protocol, "Recv failure"), false},
      {"lookup failed", connect(0), false},
      {"connection refused", connect(ECONNREFUSED), true},
      {"host unreachable", connect(EHOSTUNREACH), true},
      {"HTTP 503", json_response(503, R"({"error":"unavailable"})"), true},
      {"HTTP 502, not JSON", json_response(502, "<html>Bad gateway</html>"), true},
      {"HTTP 200, no rule", json_response(200, R"({"what":"?"})"), false},
      {"HTTP 408, no rule", json_response(408, R"({"error":"timeout"})"), false},
  };
  for (const Case& c : cases) {
    for (bool signalling : {false, true}) {
      BOOST_TEST_CONTEXT(c.what << (signalling ? ", a caller who can signal" : ", root's process")) {
        api.send_failure = c.answer;
        request.caller_can_signal = signalling;
        log.lines.clear();
        const bool opens = !signalling || c.opens_for_a_signalling_caller;
        BOOST_TEST(result_name(login()) == (opens ? "PAM_IGNORE" : "PAM_AUTHINFO_UNAVAIL"));
        BOOST_TEST(log.contains(opens ? "result=failopen" : "result=unavailable"));
        if (!opens) BOOST_TEST(log.contains("failmode=safe does not apply: whoever started this process"));
        BOOST_TEST(conv.prompts.empty());
      }
    }
  }
}

// A failure of this machine (no descriptors, no memory, a client
// certificate that cannot be used) is a refusal, whatever failmode says.
BOOST_AUTO_TEST_CASE(a_failure_of_this_machine_is_never_an_outage) {
  extra = "failmode = \"safe\"";
  api.send_failure = testing::failed_response(http::Failure::Refused, "this machine could not make the exchange");
  BOOST_TEST(result_name(login()) == "PAM_SERVICE_ERR");
  BOOST_TEST(log.contains("result=config_error"));
  BOOST_TEST(log.contains("refused on this machine"));
}

BOOST_AUTO_TEST_CASE(provider_rejecting_our_credentials_is_a_service_error) {
  api.send_status = 401;
  api.send_body = R"({"error":"invalid_api_key","message":"The API key is not valid"})";
  BOOST_TEST(result_name(login()) == "PAM_SERVICE_ERR");
  BOOST_TEST(log.lines.back().first == LOG_ERR);
  BOOST_TEST(log.contains("The API key is not valid"));
}

BOOST_AUTO_TEST_CASE(provider_rejecting_the_user) {
  api.send_status = 404;
  api.send_body = R"({"error":"unknown_user","message":"No such user"})";
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(log.contains("No such user"));
}

BOOST_AUTO_TEST_CASE(nothing_is_sent_before_the_checks_pass) {
  request.user = "ghost";
  BOOST_TEST(result_name(login()) == "PAM_USER_UNKNOWN");
  request.user = "nobody";  // in passwd, not in the users file
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(errors() == "Authentication failed.\n");
  request.user = "alice";
  request.authtok = Secret("\b\n\r\177INCORRECT");
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  request.authtok.reset();
  with_conversation = false;
  BOOST_TEST(result_name(login()) == "PAM_CONV_ERR");
  BOOST_TEST(api.sends == 0);
  BOOST_TEST(transports_made == 0);
}

BOOST_AUTO_TEST_CASE(unenrolled_allow_ignores) {
  extra = "unenrolled = \"allow\"";
  request.user = "nobody";
  BOOST_TEST(result_name(login()) == "PAM_IGNORE");
  BOOST_TEST(conv.errors.empty());
}

BOOST_AUTO_TEST_CASE(conversation_failure) {
  BOOST_TEST(result_name(login()) == "PAM_CONV_ERR");  // no scripted answer: EOF
  BOOST_TEST(api.sends == 1);
}

BOOST_AUTO_TEST_CASE(silent_suppresses_messages_not_prompts) {
  request.silent = true;
  conv.say("111111");
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(conv.prompts.size() == 2u);
  BOOST_TEST(conv.errors.empty());
}

BOOST_AUTO_TEST_CASE(echo_code_turns_echo_on) {
  extra = "echo_code = true";
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(conv.echoes.at(0) == true);
}

BOOST_AUTO_TEST_CASE(email_channel_uses_the_address) {
  request.user = "bob";
  api.send_body = R"({"status":"sent","transaction_id":"tx-2"})";
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(conv.prompts.at(0).find("b***@example.com") != std::string::npos);
  const auto body = json::parse(api.seen.at(0).body);
  BOOST_TEST((*body)["channel"].asString() == "email");
  BOOST_TEST((*body)["to"].asString() == "bob@example.com");
}

BOOST_AUTO_TEST_CASE(config_errors_are_service_errors_and_send_nothing) {
  extra = "attempts = 0";
  BOOST_TEST(result_name(login()) == "PAM_SERVICE_ERR");
  BOOST_TEST(transports_made == 0);
  BOOST_TEST(log.contains("pam_otp.conf:2: key 'attempts': must be from 1 to 20"));
  BOOST_TEST(log.lines.front().first == LOG_ERR);
}

BOOST_AUTO_TEST_CASE(the_log_holds_no_secret) {
  conv.say("111111");
  conv.say("123456");
  login();
  const std::string all = log.all();
  BOOST_TEST(all.find("123456") == std::string::npos);
  BOOST_TEST(all.find("111111") == std::string::npos);
  BOOST_TEST(all.find("+15551234567") == std::string::npos);
  BOOST_TEST(all.find("test-api-key") == std::string::npos);
  BOOST_TEST(all.find("hunter2") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(login_helpers)

BOOST_AUTO_TEST_CASE(incorrect_marker_at_every_length) {
  const std::string junk = "\b\n\r\177INCORRECT";
  for (std::size_t length : {1u, 5u, 13u, 20u, 40u}) {
    std::string marker;
    for (std::size_t i = 0; i < length; ++i) marker += junk[i % junk.size()];
    BOOST_TEST(is_incorrect_marker(marker), "length " << length);
    marker.back() = 'x';
    BOOST_TEST(!is_incorrect_marker(marker), "length " << length << ", last byte changed");
  }
  BOOST_TEST(!is_incorrect_marker(""));
  BOOST_TEST(!is_incorrect_marker("hunter2"));
  BOOST_TEST(!is_incorrect_marker(junk + "x"));
}

BOOST_AUTO_TEST_CASE(ssh_methods_from_ssh_auth_info) {
  const std::vector<std::string> key = {"publickey"};
  BOOST_TEST(ssh_methods_done(key, std::string("publickey ssh-ed25519 AAAAC3Nza\n")));
  BOOST_TEST(ssh_methods_done(key, std::string("password\npublickey ssh-rsa AAAA\n")));
  BOOST_TEST(!ssh_methods_done(key, std::nullopt));
  BOOST_TEST(!ssh_methods_done(key, std::string()));
  BOOST_TEST(!ssh_methods_done(key, std::string("password\n")));
  BOOST_TEST(!ssh_methods_done(key, std::string("keyboard-interactive/pam\n")));
  BOOST_TEST(!ssh_methods_done(key, std::string("publickeyx ssh-rsa AAAA\n")));
  BOOST_TEST(ssh_methods_done({"keyboard-interactive"}, std::string("keyboard-interactive/pam\n")));
  BOOST_TEST(!ssh_methods_done({"publickey", "password"}, std::string("publickey ssh-rsa AAAA\n")));
  BOOST_TEST(ssh_methods_done({}, std::nullopt));
}

BOOST_AUTO_TEST_SUITE_END()

// The local state (issue: recovery codes, failmode = "recovery", remember,
// send_limit, destination_user), through run_login with a real SQLite file
// in the test's directory and the fake clock.
namespace {

struct StateFixture : Fixture {
  // Gives USER recovery codes; returns them as shown.
  std::vector<std::string> issue_codes(const std::string& user, int n) {
    auto store = store::open_sqlite_store(state_file());
    const auto codes = store::make_recovery_codes(n);
    const std::string salt = store::make_salt();
    std::vector<std::string> hashes, shown;
    for (const auto& c : codes) {
      hashes.push_back(store::hash_recovery_code(*store::normalize_recovery_code(c.reveal()), salt));
      shown.emplace_back(c.reveal());
    }
    store->set_recovery_codes(user, salt, hashes, clock.unix_time());
    return shown;
  }
  void fresh_login() {
    conv = {};
    log.lines.clear();
  }
};

// A store whose count fails as `fail` says (a state helper that timed out,
// a shared store that never answered); its key is `inner`'s, and it keeps
// nothing else.
std::unique_ptr<store::Store> failing_take(std::unique_ptr<store::Store> inner, std::function<void()> fail) {
  struct FailingTake final : store::Store {
    std::unique_ptr<store::Store> inner;
    std::function<void()> fail;
    Secret hash_key() override { return inner->hash_key(); }
    void set_recovery_codes(const std::string&, const std::string&, const std::vector<std::string>&, std::int64_t) override {}
    std::optional<store::RecoveryBatch> recovery_codes(const std::string&) override { return std::nullopt; }
    bool use_recovery_code(const std::string&, std::int64_t, const std::string&, std::int64_t, const std::string&) override {
      return false;
    }
    void remember(const store::Remembered&) override {}
    bool is_remembered(const std::string&, const std::string&, std::int64_t, std::int64_t) override { return false; }
    std::vector<store::Remembered> remembered(const std::string&, std::int64_t) override { return {}; }
    std::optional<store::LimitReached> take(const std::vector<store::Limit>&, std::int64_t) override {
      fail();
      return std::nullopt;
    }
    int count(const std::string&, const std::string&, std::int64_t) override { return 0; }
    void forget(const std::string&) override {}
    void forget_rhost(const std::string&) override {}
  };
  auto s = std::make_unique<FailingTake>();
  s->inner = std::move(inner);
  s->fail = std::move(fail);
  return s;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(local_state_flow, StateFixture)

BOOST_AUTO_TEST_CASE(a_verified_login_is_remembered_for_the_same_client_only) {
  extra = "remember = 3600";
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == 1);
  fresh_login();
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == 1);  // nothing sent, nothing asked
  BOOST_TEST(conv.prompts.empty());
  BOOST_TEST(log.contains("result=remembered user=alice rhost=203.0.113.5 service=sshd"));
  // Another client, another service, a local login: a code each time.
  for (auto change : {+[](LoginRequest& r) { r.rhost = "198.51.100.9"; }, +[](LoginRequest& r) { r.service = "sudo"; },
                      +[](LoginRequest& r) { r.rhost = ""; },
                      +[](LoginRequest& r) { r.ssh_auth_info = "publickey ssh-ed25519 AAAAother\n"; }}) {
    const LoginRequest saved = request;
    change(request);
    fresh_login();
    conv.say("123456");
    const int sends = api.sends;
    BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
    BOOST_TEST(api.sends == sends + 1);
    request = saved;
  }
  // Expiry counts from the verified login, not from the last skip.
  clock.advance(std::chrono::seconds(3599));
  fresh_login();
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(log.contains("result=remembered"));
  clock.advance(std::chrono::seconds(1));
  fresh_login();
  conv.say("123456");
  const int sends = api.sends;
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == sends + 1);
}

BOOST_AUTO_TEST_CASE(the_store_holds_no_address) {
  extra = "remember = 600";
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  auto store = store::open_sqlite_store(state_file());
  const auto remembered = store->remembered("", clock.unix_time());
  BOOST_REQUIRE(remembered.size() == 1u);
  BOOST_TEST(remembered[0].key_hash.size() == 64u);
  // A keyed hash in hex: no dots, so no address. ("203" alone turns up in
  // a random hex string one run in 70.)
  BOOST_TEST(remembered[0].key_hash.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(remembered[0].expires_at == clock.unix_time() + 600);
}

BOOST_AUTO_TEST_CASE(the_send_limit_counts_across_logins) {
  extra = "send_limit = { user = \"2/15m\" }";
  for (int i = 0; i < 2; ++i) {
    fresh_login();
    conv.say("123456");
    BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  }
  fresh_login();
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(api.sends == 2);
  BOOST_TEST(errors() == "Too many codes were requested. Try again in 15 minutes.\n");
  BOOST_TEST(log.contains("result=send_limited"));
  BOOST_TEST(log.contains("send_limit.user 2/15m reached"));
  clock.advance(std::chrono::minutes(15));
  fresh_login();
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == 3);
}

BOOST_AUTO_TEST_CASE(resends_count_and_the_rhost_limit_spans_users) {
  extra = "send_limit = { rhost = \"3/1h\" }\nresend_cooldown = 0";
  conv.say("");  // a resend
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == 2);
  fresh_login();
  request.user = "bob";
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  fresh_login();
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");  // the fourth code from 203.0.113.5
  BOOST_TEST(log.contains("send_limit.rhost 3/1h reached"));
  BOOST_TEST(api.sends == 3);
}

// One account behind a NAT or bastion must not spend the address's whole
// budget: with the default limits (no send_limit line) one user sends at
// most 5 codes an hour from one address, and others from it still get theirs.
BOOST_AUTO_TEST_CASE(one_user_cannot_spend_an_addresss_whole_budget) {
  for (int i = 0; i < 5; ++i) {
    fresh_login();
    conv.say("123456");
    BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  }
  clock.advance(std::chrono::minutes(15));  // send_limit.user (5/15m) has room again
  fresh_login();
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(log.contains("send_limit.user_rhost 5/1h reached for alice from 203.0.113.5"));
  BOOST_TEST(api.sends == 5);
  fresh_login();
  request.user = "bob";  // another user from the same address
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  fresh_login();
  request.user = "alice";
  request.rhost = "198.51.100.4";  // alice from elsewhere
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == 7);
}

BOOST_AUTO_TEST_CASE(failmode_recovery_takes_a_recovery_code_once) {
  extra = "failmode = \"recovery\"";
  const auto codes = issue_codes("alice", 2);
  api.down = true;
  conv.say(codes[0]);
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_REQUIRE(!conv.prompts.empty());
  BOOST_TEST(conv.prompts.back() == "Recovery code: ");
  BOOST_TEST(conv.errors.front() == "The code service is unavailable.");
  BOOST_TEST(conv.infos.back() == "Recovery code accepted; 1 left.");
  bool alert = false;
  for (const auto& [priority, line] : log.lines)
    alert = alert || (priority == LOG_ALERT && line.find("result=recovery_code user=alice rhost=203.0.113.5") !=
                                                   std::string::npos && line.find("1 left") != std::string::npos);
  BOOST_TEST(alert);
  // The same code again: refused, attempt by attempt.
  fresh_login();
  for (int i = 0; i < 3; ++i) conv.say(codes[0]);
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(conv.errors.back() == "Incorrect code. No attempts left.");
}

BOOST_AUTO_TEST_CASE(failmode_recovery_never_lets_anyone_in_without_a_code) {
  extra = "failmode = \"recovery\"";
  api.down = true;
  BOOST_TEST(result_name(login()) == "PAM_AUTHINFO_UNAVAIL");  // alice has no recovery codes
  BOOST_TEST(conv.prompts.empty());
  issue_codes("alice", 1);
  fresh_login();
  conv.say("123456");  // a one-time code is no recovery code
  conv.say("abcd-efgh-jkmn");
  conv.say("");
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(api.verifies == 0);
  BOOST_TEST(conv.errors.back() == "That is not a valid code. No attempts left.");
}

BOOST_AUTO_TEST_CASE(recovery_outage_is_not_accepted_at_the_code_prompt) {
  const auto codes = issue_codes("alice", 1);  // recovery = "outage", the default
  conv.say(codes[0]);
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.verifies == 1);  // the recovery code was a wrong code (pattern)
  BOOST_TEST(log.contains("result=success"));
}

BOOST_AUTO_TEST_CASE(recovery_always_replaces_the_sent_code_and_is_not_remembered) {
  extra = "recovery = \"always\"\nremember = 3600";
  const auto codes = issue_codes("alice", 1);
  std::string typed = codes[0];
  for (char& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  conv.say(typed);  // case and dashes do not matter
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.verifies == 0);
  BOOST_TEST(conv.infos.back() == "Recovery code accepted. It was your last one: ask for new ones.");
  BOOST_TEST(log.contains("result=recovery_code"));
  fresh_login();
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(log.contains("result=success"));  // asked again: a recovery code is not remembered
}

BOOST_AUTO_TEST_CASE(recovery_codes_tried_are_limited_across_logins) {
  extra = "recovery = \"always\"\nsend_limit = {}";
  const auto codes = issue_codes("alice", 1);
  for (int login_number = 0; login_number < 2; ++login_number) {
    fresh_login();
    for (int i = 0; i < 3; ++i) conv.say("abcd-efgh-jkmn");
    login();
  }
  fresh_login();
  conv.say(codes[0]);  // right, but the sixth try within 15 minutes
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(conv.errors.back().find("Too many attempts. Try again in") == 0);
  BOOST_TEST(log.contains("recovery locked"));
  clock.advance(std::chrono::minutes(15));
  fresh_login();
  conv.say(codes[0]);
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
}

// Whoever has the password must not learn whether the owner has recovery
// codes: without any, a typed one still counts as a try (and is hashed), and
// reads as a wrong code.
BOOST_AUTO_TEST_CASE(no_recovery_codes_reads_as_a_wrong_one) {
  extra = "recovery = \"always\"\nsend_limit = {}";
  for (int login_number = 0; login_number < 2; ++login_number) {
    fresh_login();
    for (int i = 0; i < 3; ++i) conv.say("abcd-efgh-jkmn");
    login();
    if (login_number == 0) BOOST_TEST(conv.errors.front() == "Incorrect code, 2 attempts left.");
  }
  fresh_login();
  conv.say("abcd-efgh-jkmn");  // the sixth try within 15 minutes
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");
  BOOST_TEST(log.contains("recovery locked"));
}

// With recovery = "always" a recovery code may be typed at the code prompt:
// that prompt is never echoed, whatever echo_code says.
BOOST_AUTO_TEST_CASE(the_code_prompt_is_not_echoed_when_a_recovery_code_may_be_typed) {
  extra = "echo_code = true\nrecovery = \"always\"";
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_REQUIRE(!conv.echoes.empty());
  BOOST_TEST(conv.echoes[0] == false);
  extra = "echo_code = true\nrecovery = \"outage\"";  // not typed there: echoed as asked
  fresh_login();
  conv.say("123456");
  login();
  BOOST_TEST(conv.echoes[0] == true);
}

// A store whose counting fails (a state helper that died or timed out):
// where the caller can stop the process the send is refused, never made
// uncounted; elsewhere the login goes on without its state, as before.
BOOST_AUTO_TEST_CASE(a_send_that_cannot_be_counted_is_refused_where_the_caller_could_cause_it) {
  opener = [this](const std::string&) {
    return failing_take(store::open_sqlite_store(state_file()),
                        [] { throw store::Error("state helper: it did not answer within 2000 ms"); });
  };
  counted_sends_only = true;
  BOOST_TEST(result_name(login()) == "PAM_SERVICE_ERR");
  BOOST_TEST(api.sends == 0);
  BOOST_TEST(log.contains("the send cannot be counted"));
  counted_sends_only = false;  // root's process: goes on, uncounted, and says so
  fresh_login();
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == 1);
  BOOST_TEST(log.contains("state: cannot count codes sent"));
}

// The first send's count goes to the store before the HTTP plugin is
// loaded (where the store runs it meanwhile), and the send reads that
// count: one count, the same limits, nothing counted twice.
BOOST_AUTO_TEST_CASE(the_first_count_is_sent_before_the_plugin_loads_and_read_by_the_send) {
  struct Recording final : store::Store {
    std::unique_ptr<store::Store> inner;
    const int* transports_made = nullptr;
    std::vector<std::string>* calls = nullptr;  // "ahead@N" / "take@N": N transports made by then
    std::vector<std::vector<store::Limit>>* limits = nullptr;
    Secret hash_key() override { return inner->hash_key(); }
    void set_recovery_codes(const std::string& u, const std::string& s, const std::vector<std::string>& h,
                            std::int64_t n) override { inner->set_recovery_codes(u, s, h, n); }
    std::optional<store::RecoveryBatch> recovery_codes(const std::string& u) override { return inner->recovery_codes(u); }
    bool use_recovery_code(const std::string& u, std::int64_t id, const std::string& h, std::int64_t n,
                           const std::string& s) override { return inner->use_recovery_code(u, id, h, n, s); }
    void remember(const store::Remembered& r) override { inner->remember(r); }
    bool is_remembered(const std::string& u, const std::string& k, std::int64_t n, std::int64_t b) override {
      return inner->is_remembered(u, k, n, b);
    }
    std::vector<store::Remembered> remembered(const std::string& u, std::int64_t n) override { return inner->remembered(u, n); }
    void take_ahead(const std::vector<store::Limit>& l, std::int64_t) override {
      calls->push_back("ahead@" + std::to_string(*transports_made));
      limits->push_back(l);
      std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the login's time, for the debug line
    }
    std::optional<store::LimitReached> take(const std::vector<store::Limit>& l, std::int64_t n) override {
      calls->push_back("take@" + std::to_string(*transports_made));
      limits->push_back(l);
      return inner->take(l, n);
    }
    int count(const std::string& k, const std::string& key, std::int64_t n) override { return inner->count(k, key, n); }
    void forget(const std::string& u) override { inner->forget(u); }
    void forget_rhost(const std::string& r) override { inner->forget_rhost(r); }
  };
  std::vector<std::string> calls;
  std::vector<std::vector<store::Limit>> limits;
  opener = [&](const std::string&) {
    auto s = std::make_unique<Recording>();
    s->inner = store::open_sqlite_store(state_file());
    s->transports_made = &transports_made;
    s->calls = &calls;
    s->limits = &limits;
    return std::unique_ptr<store::Store>(std::move(s));
  };
  extra = "send_limit = { user = \"5/15m\", rhost = \"10/1h\" }\ndebug = true";
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(calls == (std::vector<std::string>{"ahead@0", "take@1"}), boost::test_tools::per_element());
  // The debug line's time is the login's: the 30 ms spent sending ahead too.
  double wall = -1;
  for (const auto& [priority, line] : log.lines)
    if (line.rfind("state: send limits checked in the state store (", 0) == 0) wall = std::stod(line.substr(line.find('(') + 1));
  BOOST_TEST(wall >= 30.0);
  BOOST_REQUIRE(limits.size() == 2u);
  BOOST_TEST(limits[0].size() == 2u);
  BOOST_TEST(limits[0].size() == limits[1].size());
  for (std::size_t i = 0; i < limits[0].size() && i < limits[1].size(); ++i) BOOST_TEST(limits[0][i].key == limits[1][i].key);
  BOOST_TEST(store::open_sqlite_store(state_file())->count(store::kSendUser, "alice", 0) == 1);
  BOOST_TEST(api.sends == 1);
}

// A config naming a shared store (the flow's part: the store itself is a
// SQLite file here; the real PostgreSQL is the integration tests').
std::string shared_store_config(const testing::TempDir& dir) {
  return "state_store = \"postgresql://pam_otp@127.0.0.1:999/pam_otp?sslmode=disable\"\nstate_password_file = \"" +
         dir.write("db-password", "pw\n") + "\"\n";
}

// Every call fails, as a database that is down or refuses this host.
struct DownStore final : store::Store {
  [[noreturn]] static void down() { throw store::Error("could not connect to 127.0.0.1 port 999: Connection refused"); }
  Secret hash_key() override { down(); }
  void set_recovery_codes(const std::string&, const std::string&, const std::vector<std::string>&, std::int64_t) override { down(); }
  std::optional<store::RecoveryBatch> recovery_codes(const std::string&) override { down(); }
  bool use_recovery_code(const std::string&, std::int64_t, const std::string&, std::int64_t, const std::string&) override { down(); }
  void remember(const store::Remembered&) override { down(); }
  bool is_remembered(const std::string&, const std::string&, std::int64_t, std::int64_t) override { down(); }
  std::vector<store::Remembered> remembered(const std::string&, std::int64_t) override { down(); }
  std::optional<store::LimitReached> take(const std::vector<store::Limit>&, std::int64_t) override { down(); }
  int count(const std::string&, const std::string&, std::int64_t) override { down(); }
  void forget(const std::string&) override { down(); }
  void forget_rhost(const std::string&) override { down(); }
};

// With a shared store, remembered logins and the send limit live there,
// and a login that can use it never opens the local file.
BOOST_AUTO_TEST_CASE(the_shared_store_holds_the_state_and_the_local_file_stays_closed) {
  const std::string shared = dir.path() + "/shared/state.db";
  shared_opener = [&](const store::PgConnectOptions& o, std::chrono::milliseconds budget) {
    BOOST_TEST(o.target.hosts.at(0).port == 999);
    BOOST_TEST(o.password.reveal() == "pw");
    BOOST_TEST(budget.count() == 700);
    return store::open_sqlite_store(shared);
  };
  extra = shared_store_config(dir) + "store_timeout = 0.7\nremember = 3600";
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  fresh_login();
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");  // remembered: no code
  BOOST_TEST(api.sends == 1);
  BOOST_TEST(store::open_sqlite_store(shared)->count(store::kSendUser, "alice", 0) == 1);
  BOOST_TEST(!std::filesystem::exists(state_file()));
}

// A shared store that cannot be used: a remembered client is asked for the
// code, the send limit is counted in the local file, recovery codes are
// unavailable (and the user is told); one LOG_ERR line says so.
BOOST_AUTO_TEST_CASE(a_shared_store_that_is_down_is_handled_per_feature) {
  shared_opener = [](const store::PgConnectOptions&, std::chrono::milliseconds) { return std::make_unique<DownStore>(); };
  extra = shared_store_config(dir) + "remember = 3600\nrecovery = \"always\"\nsend_limit = { user = \"1/15m\" }";
  conv.say("abcd-efgh-jkmn");  // a recovery code: cannot be checked
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(errors().find("Recovery codes cannot be checked now.") != std::string::npos, errors());
  BOOST_TEST(log.contains("no remembered login is honoured, no recovery code is accepted, and the send limit is "
                          "counted in the local state file"));
  BOOST_TEST(store::open_sqlite_store(state_file())->count(store::kSendUser, "alice", 0) == 1);
  fresh_login();
  BOOST_TEST(result_name(login()) == "PAM_MAXTRIES");  // not remembered, and the local limit holds
  BOOST_TEST(api.sends == 1);
  BOOST_TEST(log.contains("send_limit.user 1/15m reached for alice"));
}

// A count that went to the shared store and whose answer never came may or
// may not have been made there (pgbouncer drops a queued query when the
// login gives up): it is counted in the local file too, so the limit never
// disappears; and where the caller could stop the login, a count that
// cannot be made locally either refuses the send.
BOOST_AUTO_TEST_CASE(a_shared_count_without_an_answer_is_counted_locally_too) {
  shared_opener = [&](const store::PgConnectOptions&, std::chrono::milliseconds) {
    return failing_take(store::open_sqlite_store(dir.path() + "/shared/state.db"), [] {
      throw store::MayHaveRun("waiting for the shared store: no answer within the store's budget (store_timeout)");
    });
  };
  extra = shared_store_config(dir);
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.sends == 1);
  BOOST_TEST(log.contains("did not answer a count it may or may not have made (counted here too)"));
  BOOST_TEST(store::open_sqlite_store(state_file())->count(store::kSendUser, "alice", 0) == 1);
  // su or sudo whose local count fails too: no send.
  fresh_login();
  counted_sends_only = true;
  opener = [](const std::string&) -> std::unique_ptr<store::Store> { throw store::PeerUnavailable("state helper: cannot start"); };
  BOOST_TEST(result_name(login()) == "PAM_SERVICE_ERR");
  BOOST_TEST(api.sends == 1);
}

// pam-otp or a program that cannot reach a shared store (no opener) treats
// a config naming one as a store that is down.
BOOST_AUTO_TEST_CASE(a_program_without_the_shared_store_goes_on_as_when_it_is_down) {
  extra = shared_store_config(dir);
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(log.contains("this program cannot reach a shared store"));
  BOOST_TEST(store::open_sqlite_store(state_file())->count(store::kSendUser, "alice", 0) == 1);
}

BOOST_AUTO_TEST_CASE(a_shorter_remember_applies_to_logins_remembered_before) {
  extra = "remember = 3600";
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  clock.advance(std::chrono::seconds(120));
  extra = "remember = 60";
  fresh_login();
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(log.contains("result=success"));  // not remembered: older than 60 s
}

BOOST_AUTO_TEST_CASE(without_a_usable_store_the_login_goes_on_and_says_so_once) {
  extra = "remember = 3600\nrecovery = \"always\"";
  BOOST_REQUIRE(::mkdir((dir.path() + "/state").c_str(), 0777) == 0);  // writable by others: refused
  BOOST_REQUIRE(::chmod((dir.path() + "/state").c_str(), 0777) == 0);
  conv.say("abcd-efgh-jkmn");
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(conv.errors.front() == "Recovery codes cannot be checked now.");
  BOOST_TEST(log.contains("attempts=2"));  // the unchecked recovery code cost an attempt
  int errors_logged = 0;
  for (const auto& [priority, line] : log.lines)
    if (priority == LOG_ERR && line.find("state: ") == 0) ++errors_logged;
  BOOST_TEST(errors_logged == 1);
  BOOST_TEST(log.contains("is writable by group or others"));
}

BOOST_AUTO_TEST_CASE(caller_mode_sends_to_the_caller) {
  extra = "destination_user = \"caller\"";
  request.service = "su";
  request.ruser = "bob";
  request.user = "alice";
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_REQUIRE(!conv.prompts.empty());
  BOOST_REQUIRE(!api.seen.empty());
  BOOST_TEST(api.seen.front().body.find("bob@example.com") != std::string::npos);
  BOOST_TEST(log.contains("result=success user=alice caller=bob"));
  BOOST_TEST(log.contains("channel=email"));
  // Not for other services, nor when the caller is unknown.
  fresh_login();
  request.service = "sudo";
  conv.say("123456");
  const auto seen = api.seen.size();
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.seen[seen].body.find("+15551234567") != std::string::npos);
  BOOST_TEST(!log.contains("caller="));
  fresh_login();
  request.service = "su";
  request.ruser = "mallory";
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(log.contains("the caller (PAM_RUSER) 'mallory' has no passwd entry"));
}

// PAM_RUSER is the application's word: it counts only for the real uid (or
// root); otherwise the target's own destination is used.
BOOST_AUTO_TEST_CASE(caller_mode_trusts_pam_ruser_only_for_the_real_uid) {
  extra = "destination_user = \"caller\"";
  request.service = "su";
  request.ruser = "bob";
  const uid_t bob = directory.find_user("bob")->uid;
  request.real_uid = bob + 1;
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.seen.front().body.find("+15551234567") != std::string::npos);  // alice's own phone
  BOOST_TEST(!log.contains("caller="));
  BOOST_TEST(log.contains("is not the caller's uid"));
  for (const uid_t uid : {bob, uid_t(0)}) {
    fresh_login();
    request.real_uid = uid;
    conv.say("123456");
    const auto seen = api.seen.size();
    BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
    BOOST_TEST(api.seen[seen].body.find("bob@example.com") != std::string::npos);
  }
}

// A caller without a destination proves nothing about the target account,
// whatever unenrolled says: else any local user could su to an enrolled one.
BOOST_AUTO_TEST_CASE(a_caller_without_a_destination_is_refused_even_with_unenrolled_allow) {
  extra = "destination_user = \"caller\"\nunenrolled = \"allow\"";
  request.service = "su";
  request.ruser = "nobody";  // a passwd entry, no users file line
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(api.sends == 0);
  BOOST_TEST(log.contains("refused: a caller without a destination"));
  request.ruser = "";  // not caller mode: unenrolled = "allow" applies to alice as ever
  fresh_login();
  conv.say("123456");
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
}

BOOST_AUTO_TEST_SUITE_END()

// The privacyidea preset against answers shaped as privacyIDEA 3.11.4's
// (tests/privacyidea runs the same against the real server).
namespace {

struct PrivacyIdea : Fixture {
  std::string code = "654321";
  long validity = 300;   // what valid_until says, from the answer's time
  std::string first_leg_reject;  // a /validate/check REJECT message instead of a challenge
  bool trigger_finds_none = false;
  bool token_active = true;

  PrivacyIdea() {
    provider_toml = "[provider.pi]\npreset = \"privacyidea\"\nbase_url = \"https://pi.example\"\n";
    serve = [this](const SeenRequest& r) { return answer(r); };
  }
  // The user answers the right code after `seconds` at the prompt.
  void answer_after(long seconds) {
    conv.answers.push_back([this, seconds](const std::string&) {
      clock.advance(std::chrono::seconds(seconds));
      return code;
    });
  }
  std::vector<std::string> paths() const {
    std::vector<std::string> out;
    for (const auto& r : api.seen) out.push_back(r.method + " " + r.url.substr(std::string("https://pi.example").size()));
    return out;
  }
  http::Response challenge() const {
    // 2026-12-07 08:22:15 UTC; the server's zone is UTC+1.
    const std::time_t valid_until = 1796631735 + 3600 + validity;
    std::tm tm{};
    gmtime_r(&valid_until, &tm);
    char local[32];
    std::strftime(local, sizeof local, "%Y-%m-%d %H:%M:%S.250000", &tm);
    return json_response(200, std::string(R"({"detail":{"message":"Enter the OTP from the SMS:","transaction_id":"0815",)") +
                                  R"("multi_challenge":[{"type":"sms","transaction_id":"0815","attributes":{"valid_until":")" +
                                  local + R"("}}]},"result":{"authentication":"CHALLENGE","status":true,"value":false},)" +
                                  R"("time":1796631735.25})");
  }
  http::Response answer(const SeenRequest& r) {
    api.seen.push_back(r);
    const auto reject = [](const std::string& message) {
      return json_response(200, R"({"detail":{"message":")" + message +
                                    R"("},"result":{"authentication":"REJECT","status":true,"value":false}})");
    };
    if (r.url.ends_with("/auth"))
      return json_response(200, R"({"result":{"status":true,"value":{"token":"eyJ.admin.jwt"}}})");
    if (r.url.find("/token/") != std::string::npos)
      return json_response(200, std::string(R"({"result":{"status":true,"value":{"count":1,"tokens":[{"active":)") +
                                    (token_active ? "true" : "false") + "}]}}}");
    if (r.url.ends_with("/validate/triggerchallenge")) {
      if (trigger_finds_none) return json_response(200, R"({"detail":{},"result":{"authentication":"REJECT","status":true,"value":0}})");
      return challenge();
    }
    if (r.body.find("transaction_id=0815") == std::string::npos)  // the first leg
      return first_leg_reject.empty() ? challenge() : reject(first_leg_reject);
    ++api.verifies;
    if (r.body.find("pass=" + code) != std::string::npos)
      return json_response(200, R"({"detail":{"message":"Found matching challenge"},"result":{"authentication":"ACCEPT","status":true,"value":true}})");
    return reject("Response did not match the challenge.");
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(privacyidea_flow, PrivacyIdea)

BOOST_AUTO_TEST_CASE(a_code_typed_after_valid_until_is_not_sent) {
  extra = "debug = true";
  validity = 120;
  answer_after(119);  // 120 s less the 2 s margin: too late
  conv.say("");
  conv.say(code);
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.verifies == 1);  // the late code never reached privacyIDEA
  BOOST_TEST(errors() == "The code has expired. Press Enter to get a new one.\n");
  BOOST_TEST(paths() == (std::vector<std::string>{"POST /validate/check", "POST /validate/check", "POST /validate/check"}),
             boost::test_tools::per_element());
  BOOST_TEST(log.contains("valid for 120 s"));
}

// A wrong code before the stated expiry is wrong, not "perhaps expired".
BOOST_AUTO_TEST_CASE(a_wrong_code_in_time_is_called_wrong) {
  conv.say("111111");
  conv.say(code);
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(errors() == "Incorrect code, 2 attempts left.\n");
}

BOOST_AUTO_TEST_CASE(a_code_typed_in_time_is_sent) {
  validity = 120;
  answer_after(117);
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(api.verifies == 1);
}

BOOST_AUTO_TEST_CASE(expired_without_a_resend_ends_the_login) {
  extra = "resends = 0";
  validity = 60;
  answer_after(600);
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(api.verifies == 0);
  BOOST_TEST(errors() == "The code has expired.\n");
  BOOST_TEST(log.contains("result=expired"));
  BOOST_TEST(log.contains("typed after the expiry time the provider gave"));
}

BOOST_AUTO_TEST_CASE(sms_and_email_challenges_are_logged_in_our_order) {
  serve = [](const SeenRequest& r) {
    if (r.body.find("transaction_id") != std::string::npos)
      return json_response(200, R"({"detail":{},"result":{"authentication":"ACCEPT","status":true,"value":true}})");
    return json_response(200, R"({"detail":{"transaction_id":"1","multi_challenge":[{"type":"email"},{"type":"sms"},)"
                              R"({"type":"email"}]},"result":{"authentication":"CHALLENGE","status":true,"value":false}})");
  };
  conv.say(code);
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(log.contains("channel=sms+email "));
}

BOOST_AUTO_TEST_CASE(a_disabled_token_is_told_as_disabled) {
  first_leg_reject = "No active challenge response token found";
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(errors() == "Your one-time code token is disabled. Ask your administrator.\n");
  BOOST_TEST(log.contains("result=disabled"));
  BOOST_TEST(conv.prompts.empty());
}

BOOST_AUTO_TEST_CASE(a_wrong_pin_is_logged_as_a_pin_problem) {
  first_leg_reject = "wrong otp pin";
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(log.contains("result=wrong_pin"));
  BOOST_TEST(log.contains("the token PIN is not trigger_pass"));
  BOOST_TEST(!log.contains("result=rejected"));
}

BOOST_AUTO_TEST_CASE(with_admin_credentials_the_trigger_needs_no_pin) {
  extra = "debug = true";  // the debug log shows no credential either
  provider_toml += "admin_user = \"pam-otp\"\nadmin_password = \"s3cret\"\ntrigger_pass = \"4711\"\n";
  conv.say(code);
  BOOST_TEST(result_name(login()) == "PAM_SUCCESS");
  BOOST_TEST(paths() == (std::vector<std::string>{"POST /auth", "POST /validate/triggerchallenge", "POST /validate/check"}),
             boost::test_tools::per_element());
  BOOST_TEST(api.seen.at(0).body == "password=s3cret&username=pam-otp");
  BOOST_TEST(api.seen.at(1).headers.at("Authorization") == "eyJ.admin.jwt");
  BOOST_TEST(api.seen.at(1).body == "user=alice");
  BOOST_TEST(api.seen.at(2).headers.count("Authorization") == 0u);  // the code goes without the admin's token
  BOOST_TEST(api.seen.at(2).body.find("4711") == std::string::npos);
  BOOST_TEST(!log.contains("s3cret"));
  BOOST_TEST(!log.contains("eyJ.admin.jwt"));
}

BOOST_AUTO_TEST_CASE(with_admin_credentials_a_disabled_token_is_found_by_listing) {
  provider_toml += "admin_user = \"pam-otp\"\nadmin_password = \"s3cret\"\nrealm = \"corp\"\n";
  trigger_finds_none = true;
  token_active = false;
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(paths().at(2) == "GET /token/?user=alice&realm=corp");
  BOOST_TEST(log.contains("result=disabled"));
  BOOST_TEST(errors() == "Your one-time code token is disabled. Ask your administrator.\n");
}

BOOST_AUTO_TEST_CASE(with_admin_credentials_no_active_token_is_an_unknown_user) {
  provider_toml += "admin_user = \"pam-otp\"\nadmin_password = \"s3cret\"\n";
  trigger_finds_none = true;
  BOOST_TEST(result_name(login()) == "PAM_AUTH_ERR");
  BOOST_TEST(log.contains("result=rejected"));
  BOOST_TEST(log.contains("no active SMS or e-mail token"));
}

BOOST_AUTO_TEST_SUITE_END()

