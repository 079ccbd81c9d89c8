// The mock provider, exercised the way pam_otp will use it: over real TLS
// with libcurl, verifying the server against the test CA.
#define BOOST_TEST_MODULE mock_provider
#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include "mask.h"
#include "mock_json.h"
#include "mock_provider.h"
#include "test_curl.h"
#include "test_env.h"
#include "test_pki.h"

namespace {

using namespace otp::mock;
using otp::mock::testing::CurlClient;
using otp::mock::testing::HttpResult;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// One PKI for the whole run, in a private temporary directory.
struct PkiFixture {
  PkiFixture() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::string tmpl = (std::filesystem::temp_directory_path() / "otp-mock-test-XXXXXX").string();
    BOOST_TEST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    pki = make_pki(tmpl + "/pki");
    instance = this;
  }
  ~PkiFixture() {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(pki.dir).parent_path(), ec);
    curl_global_cleanup();
  }
  Pki pki;
  static inline PkiFixture* instance = nullptr;
};
BOOST_TEST_GLOBAL_FIXTURE(PkiFixture);

const Pki& pki() { return PkiFixture::instance->pki; }

MockOptions options_for(const std::string& cert, const std::string& key) {
  MockOptions o;
  o.cert_file = cert;
  o.key_file = key;
  return o;
}

MockOptions server_options() { return options_for(pki().server_cert, pki().server_key); }

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

Json::Value send_body(const std::string& user, const std::string& to,
                      const std::string& channel = "sms") {
  Json::Value v(Json::objectValue);
  v["user"] = user;
  v["channel"] = channel;
  v["to"] = to;
  return v;
}

Json::Value verify_body(const std::string& transaction_id, const std::string& code) {
  Json::Value v(Json::objectValue);
  v["transaction_id"] = transaction_id;
  v["code"] = code;
  return v;
}

// A started mock on the good certificate and a client that trusts its CA.
struct Mock {
  explicit Mock(MockOptions o = server_options()) : mock(std::move(o)), client(pki().ca_cert) {
    mock.start();
  }
  std::string url(const std::string& path) const { return mock.base_url() + path; }
  HttpResult send(const std::string& user = "alice", const std::string& to = "+15551234567") {
    return client.post(url("/v1/otp/send"), send_body(user, to));
  }
  HttpResult verify(const std::string& tx, const std::string& code) {
    return client.post(url("/v1/otp/verify"), verify_body(tx, code));
  }
  // Sends a code and returns {transaction id, code}.
  std::pair<std::string, std::string> sent(const std::string& user = "alice",
                                           const std::string& to = "+15551234567") {
    const HttpResult r = send(user, to);
    BOOST_TEST_REQUIRE(r.status == 200);
    return {r.json()["transaction_id"].asString(), mock.last_code_for(to).value_or("")};
  }

  MockProvider mock;
  CurlClient client;
};

std::string wrong(const std::string& code) {
  std::string w = code;
  w[0] = code[0] == '0' ? '1' : '0';
  return w;
}

}  // namespace

namespace otp::mock::testing {
const Pki& shared_pki() { return PkiFixture::instance->pki; }
}  // namespace otp::mock::testing

BOOST_AUTO_TEST_SUITE(pki_files)

BOOST_AUTO_TEST_CASE(keys_are_private_and_serials_random) {
  for (const auto& key : {pki().ca_key, pki().server_key, pki().expired_key,
                          pki().wrong_host_key, pki().untrusted_key}) {
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(key.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600, key);
  }
  const Pki again = make_pki(pki().dir + "-again");
  std::ifstream a(pki().server_cert), b(again.server_cert);
  const std::string pem_a((std::istreambuf_iterator<char>(a)), {});
  const std::string pem_b((std::istreambuf_iterator<char>(b)), {});
  BOOST_TEST(pem_a.find("BEGIN CERTIFICATE") != std::string::npos);
  BOOST_TEST(pem_a != pem_b);
}

BOOST_AUTO_TEST_CASE(mask_destinations) {
  BOOST_TEST(mask_destination("+15551234567") == "+1******4567");
  BOOST_TEST(mask_destination("alice@example.com") == "a***@example.com");
  BOOST_TEST(mask_destination("5551234567") == "5*****4567");
  BOOST_TEST(mask_destination("+123") == "****");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(generic_api)

BOOST_FIXTURE_TEST_CASE(send_then_verify, Mock) {
  const HttpResult r = send();
  BOOST_TEST_REQUIRE(r.code == CURLE_OK, r.error);
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.header("content-type") == "application/json");
  const Json::Value body = r.json();
  BOOST_TEST(body["status"].asString() == "sent");
  BOOST_TEST(std::regex_match(body["transaction_id"].asString(), std::regex("tx-[0-9a-f]{16}")));
  BOOST_TEST(body["masked_to"].asString() == "+1******4567");
  BOOST_TEST(std::regex_match(body["request_id"].asString(), std::regex("req-[0-9]+")));

  const auto box = mock.outbox();
  BOOST_TEST_REQUIRE(box.size() == 1u);
  BOOST_TEST(box[0].user == "alice");
  BOOST_TEST(box[0].channel == "sms");
  BOOST_TEST(box[0].transaction_id == body["transaction_id"].asString());
  BOOST_TEST(std::regex_match(box[0].code, std::regex("[0-9]{6}")));

  const HttpResult ok = verify(box[0].transaction_id, box[0].code);
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(ok.json()["status"].asString() == "approved");
  BOOST_TEST(ok.json()["request_id"].asString() != body["request_id"].asString());
  // A code works once.
  BOOST_TEST(verify(box[0].transaction_id, box[0].code).status == 410);

  const auto reqs = mock.requests();
  BOOST_TEST_REQUIRE(reqs.size() == 3u);
  BOOST_TEST(reqs[0].method == "POST");
  BOOST_TEST(reqs[0].path == "/v1/otp/send");
  BOOST_TEST(parse_object(reqs[0].body).value()["user"].asString() == "alice");
  const auto auth = std::find_if(reqs[0].headers.begin(), reqs[0].headers.end(),
                                 [](const auto& h) { return h.first == "authorization"; });
  BOOST_TEST_REQUIRE((auth != reqs[0].headers.end()));
  BOOST_TEST(auth->second == "Bearer test-api-key");
  for (const auto& [name, value] : reqs[0].headers) BOOST_TEST(name != "remote_addr");
}

BOOST_FIXTURE_TEST_CASE(settings_shape_codes_and_next_code, Mock) {
  MockSettings s;
  s.code_length = 8;
  mock.configure(s);
  BOOST_TEST(mock.settings().code_length == 8);
  send("bob", "bob@example.com");
  BOOST_TEST(std::regex_match(mock.last_code_for("bob@example.com").value(),
                              std::regex("[0-9]{8}")));
  mock.set_next_code("424242");
  const HttpResult r = send("bob", "bob@example.com");
  BOOST_TEST(r.json()["masked_to"].asString() == "b***@example.com");
  BOOST_TEST(mock.last_code_for("bob@example.com").value() == "424242");
  BOOST_TEST(verify(r.json()["transaction_id"].asString(), "424242").status == 200);
  BOOST_TEST(!mock.last_code_for("nobody").has_value());
  s.code_length = 0;
  BOOST_CHECK_THROW(mock.configure(s), std::invalid_argument);
}

BOOST_FIXTURE_TEST_CASE(wrong_code_counts_attempts, Mock) {
  const auto [tx, code] = sent();
  const HttpResult first = verify(tx, wrong(code));
  BOOST_TEST(first.status == 422);
  BOOST_TEST(first.json()["error"].asString() == "wrong_code");
  BOOST_TEST(first.json()["attempts_left"].asInt() == 4);
  BOOST_TEST(first.json().isMember("request_id"));
  BOOST_TEST(verify(tx, wrong(code)).json()["attempts_left"].asInt() == 3);
  // The right code still works, and resets the count.
  BOOST_TEST(verify(tx, code).status == 200);
  const auto [tx2, code2] = sent();
  BOOST_TEST(verify(tx2, wrong(code2)).json()["attempts_left"].asInt() == 4);
}

BOOST_FIXTURE_TEST_CASE(lockout_after_max_failures, Mock) {
  MockSettings s;
  s.max_failures = 3;
  s.lock_seconds = 120;
  mock.configure(s);
  const auto [tx, code] = sent();
  BOOST_TEST(verify(tx, wrong(code)).status == 422);
  BOOST_TEST(verify(tx, wrong(code)).status == 422);
  const HttpResult locked = verify(tx, wrong(code));
  BOOST_TEST(locked.status == 423);
  BOOST_TEST(locked.json()["error"].asString() == "locked");
  BOOST_TEST(locked.header("retry-after") == "120");
  BOOST_TEST(locked.json()["retry_after"].asInt() == 120);
  // Locked: even the right code and new sends are refused.
  BOOST_TEST(verify(tx, code).status == 423);
  const HttpResult again = send();
  BOOST_TEST(again.status == 423);
  const int left = std::atoi(again.header("retry-after").c_str());
  BOOST_TEST((left > 0 && left <= 120));
  // Other users are unaffected; reset() lifts the lock.
  BOOST_TEST(send("bob", "+15550000000").status == 200);
  mock.reset();
  BOOST_TEST(send().status == 200);
}

BOOST_FIXTURE_TEST_CASE(rate_limit_per_destination, Mock) {
  MockSettings s;
  s.max_sends = 2;
  s.send_window_seconds = 60;
  mock.configure(s);
  BOOST_TEST(send().status == 200);
  BOOST_TEST(send().status == 200);
  const HttpResult limited = send();
  BOOST_TEST(limited.status == 429);
  BOOST_TEST(limited.json()["error"].asString() == "rate_limited");
  const int retry = limited.json()["retry_after"].asInt();
  BOOST_TEST((retry > 0 && retry <= 60));
  BOOST_TEST(limited.header("retry-after") == std::to_string(retry));
  BOOST_TEST(mock.outbox().size() == 2u);
  BOOST_TEST(send("alice", "+15559999999").status == 200);
}

BOOST_FIXTURE_TEST_CASE(expired_and_superseded_codes, Mock) {
  const auto [tx, code] = sent();
  mock.expire_codes();
  const HttpResult expired = verify(tx, code);
  BOOST_TEST(expired.status == 410);
  BOOST_TEST(expired.json()["error"].asString() == "expired");

  const auto [old_tx, old_code] = sent();
  const auto [new_tx, new_code] = sent();
  BOOST_TEST(verify(old_tx, old_code).status == 410);
  BOOST_TEST(verify(new_tx, new_code).status == 200);

  MockSettings s;
  s.code_ttl_seconds = 0;
  mock.configure(s);
  const auto [ttl_tx, ttl_code] = sent();
  BOOST_TEST(verify(ttl_tx, ttl_code).status == 410);
}

BOOST_FIXTURE_TEST_CASE(bad_api_key, Mock) {
  const HttpResult wrong_key =
      client.post(url("/v1/otp/send"), send_body("alice", "+1555"), "Bearer nope");
  BOOST_TEST(wrong_key.status == 401);
  BOOST_TEST(wrong_key.json()["error"].asString() == "invalid_api_key");
  BOOST_TEST(wrong_key.json().isMember("request_id"));
  BOOST_TEST(client.post(url("/v1/otp/verify"), verify_body("tx-1", "1"), "").status == 401);
  BOOST_TEST(mock.outbox().empty());
}

BOOST_FIXTURE_TEST_CASE(invalid_requests, Mock) {
  Json::Value no_to = send_body("alice", "+1555");
  no_to.removeMember("to");
  const HttpResult missing = client.post(url("/v1/otp/send"), no_to);
  BOOST_TEST(missing.status == 400);
  BOOST_TEST(missing.json()["error"].asString() == "invalid_request");
  BOOST_TEST(missing.json()["message"].asString() == "to");

  Json::Value number_user = send_body("alice", "+1555");
  number_user["user"] = 7;
  BOOST_TEST(client.post(url("/v1/otp/send"), number_user).json()["message"].asString() == "user");
  BOOST_TEST(client.post(url("/v1/otp/send"), send_body("alice", "+1555", "pigeon"))
                 .json()["message"]
                 .asString() == "channel");
  const HttpResult not_json = client.request("POST", url("/v1/otp/verify"), "[1,2]",
                                             {"Authorization: Bearer test-api-key"});
  BOOST_TEST(not_json.status == 400);
  BOOST_TEST(client.post(url("/v1/otp/verify"), verify_body("tx-none", "1")).status == 404);
  BOOST_TEST(mock.outbox().empty());
}

BOOST_FIXTURE_TEST_CASE(unknown_user, Mock) {
  MockSettings s;
  s.known_users = {"alice"};
  mock.configure(s);
  const HttpResult r = send("mallory", "+15551234567");
  BOOST_TEST(r.status == 404);
  BOOST_TEST(r.json()["error"].asString() == "unknown_user");
  BOOST_TEST(send("alice", "+15551234567").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(faults)

BOOST_FIXTURE_TEST_CASE(delay, Mock) {
  Fault f;
  f.delay_ms = 300;
  mock.set_fault(f);
  const auto start = SteadyClock::now();
  BOOST_TEST(send().status == 200);
  BOOST_TEST(seconds_since(start) >= 0.3);
}

BOOST_FIXTURE_TEST_CASE(hang_times_out_client_and_stop_is_prompt, Mock) {
  Fault f;
  f.hang = true;
  mock.set_fault(f);
  client.set_timeout_ms(1000);
  auto start = SteadyClock::now();
  const HttpResult r = send();
  BOOST_TEST(r.code == CURLE_OPERATION_TIMEDOUT);
  BOOST_TEST(seconds_since(start) < 3.0);

  // A second client still waiting when the server stops is let go at once.
  auto pending = std::async(std::launch::async, [this] {
    CurlClient other(pki().ca_cert);
    other.set_timeout_ms(10000);
    return other.post(url("/v1/otp/send"), send_body("bob", "+15550000000"));
  });
  while (mock.requests().size() < 2u) std::this_thread::sleep_for(milliseconds(5));
  start = SteadyClock::now();
  mock.stop();
  BOOST_TEST(pending.get().status != 200);
  BOOST_TEST(seconds_since(start) < 5.0);  // released by stop(), not by the client's 10 s timeout
}

BOOST_FIXTURE_TEST_CASE(hang_released_by_clear_fault, Mock) {
  Fault f;
  f.hang = true;
  f.count = 1;  // counting down must not release the hung request
  mock.set_fault(f);
  auto pending = std::async(std::launch::async, [this] {
    CurlClient other(pki().ca_cert);
    return other.post(url("/v1/otp/send"), send_body("bob", "+15550000000"));
  });
  while (mock.requests().empty()) std::this_thread::sleep_for(milliseconds(5));
  BOOST_TEST((pending.wait_for(milliseconds(200)) == std::future_status::timeout));
  mock.clear_fault();
  BOOST_TEST(pending.get().status == 200);
}

BOOST_FIXTURE_TEST_CASE(status_count_and_path, Mock) {
  Fault f;
  f.status = 500;
  f.count = 1;
  f.path = "/v1/otp/send";
  mock.set_fault(f);
  // Another path is not affected and does not use up the count.
  BOOST_TEST(verify("tx-none", "1").status == 404);
  const HttpResult r = send();
  BOOST_TEST(r.status == 500);
  BOOST_TEST(r.json()["error"].asString() == "injected");
  BOOST_TEST(r.json()["message"].asString() == "injected failure");
  BOOST_TEST(mock.outbox().empty());
  BOOST_TEST(send().status == 200);
  BOOST_TEST(!mock.fault().any());
}

BOOST_FIXTURE_TEST_CASE(malformed_json, Mock) {
  Fault f;
  f.malformed_json = true;
  mock.set_fault(f);
  const HttpResult r = send();
  BOOST_TEST(r.status == 200);
  BOOST_TEST(!r.body.empty());
  BOOST_TEST(!parse_object(r.body).has_value());
  BOOST_TEST(r.body.find("\"transaction_id\":") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(oversized, Mock) {
  Fault f;
  f.oversized_bytes = 3 * 1024 * 1024;
  mock.set_fault(f);
  const HttpResult r = send();
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body.size() == f.oversized_bytes);
  BOOST_TEST(r.json()["status"].asString() == "sent");
}

BOOST_FIXTURE_TEST_CASE(reset_mid_response, Mock) {
  Fault f;
  f.reset = true;
  f.count = 1;
  mock.set_fault(f);
  const HttpResult r = send();
  BOOST_TEST(r.code != CURLE_OK);
  BOOST_TEST(r.body.size() < 4096u);
  // The next request, on a new connection, is served normally.
  BOOST_TEST(send().status == 200);
}

BOOST_FIXTURE_TEST_CASE(control_paths_are_never_faulted, Mock) {
  Fault f;
  f.status = 503;
  mock.set_fault(f);
  BOOST_TEST(client.get(url("/mock/stats")).status == 200);
  BOOST_TEST(send().status == 503);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(connections)

BOOST_FIXTURE_TEST_CASE(keep_alive_reuses_one_handshake, Mock) {
  const auto [tx, code] = sent();
  BOOST_TEST(verify(tx, code).status == 200);
  BOOST_TEST(mock.handshakes() == 1);
  BOOST_TEST(mock.connections() == 1);
  // (Whether TCP_NODELAY saves the ~40 ms per request Nagle would cost is
  // measured by the benchmark, not asserted here.)
  for (int i = 0; i < 10; ++i) BOOST_TEST(verify(tx, code).status == 410);
  BOOST_TEST(mock.handshakes() == 1);
}

BOOST_FIXTURE_TEST_CASE(stop_is_prompt_with_idle_keep_alive, Mock) {
  BOOST_TEST(send().status == 200);  // leaves the connection open and idle
  const auto start = SteadyClock::now();
  mock.stop();
  // Bounds on hangs, not speed: an idle keep-alive connection would otherwise hold stop() for 5 s.
  BOOST_TEST(seconds_since(start) < 3.0);
  mock.stop();  // idempotent
  BOOST_TEST(send().code != CURLE_OK);
}

BOOST_FIXTURE_TEST_CASE(two_hundred_concurrent_clients, Mock) {
  constexpr int kClients = 200;
  std::atomic<int> approved{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([this, i, &approved] {
      CurlClient c(pki().ca_cert);
      const std::string to = "+1555000" + std::to_string(1000 + i);
      const HttpResult r = c.post(url("/v1/otp/send"), send_body("user" + std::to_string(i), to));
      const auto code = mock.last_code_for(to);
      if (r.status != 200 || !code) return;
      const auto tx = r.json()["transaction_id"].asString();
      if (c.post(url("/v1/otp/verify"), verify_body(tx, *code)).status == 200) ++approved;
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(approved.load() == kClients);
  BOOST_TEST(mock.outbox().size() == static_cast<std::size_t>(kClients));
  BOOST_TEST(mock.handshakes() == kClients);
}

BOOST_AUTO_TEST_CASE(tls_version_pinned) {
  MockOptions o = server_options();
  o.min_tls_version = TLS1_2_VERSION;
  Mock m(o);
  BOOST_TEST(m.send().status == 200);
  CurlClient tls13(pki().ca_cert);
  tls13.set_tls_version(CURL_SSLVERSION_TLSv1_3);
  const HttpResult r = tls13.post(m.url("/v1/otp/send"), send_body("alice", "+15551234567"));
  BOOST_TEST(r.code != CURLE_OK);
  // A failed handshake counts as a connection, not as a handshake.
  BOOST_TEST(m.mock.connections() == 2);
  BOOST_TEST(m.mock.handshakes() == 1);
}

BOOST_AUTO_TEST_CASE(old_tls_only_server) {
  MockOptions o = server_options();
  o.min_tls_version = TLS1_1_VERSION;
  Mock m(o);
  // A modern client refuses it...
  const HttpResult modern = m.send();
  BOOST_TEST(modern.code != CURLE_OK);
  // ...while one that still allows TLS 1.1 gets through.
  CurlClient old(pki().ca_cert);
  old.set_tls_version(long{CURL_SSLVERSION_TLSv1_1} | long{CURL_SSLVERSION_MAX_TLSv1_1});
  old.set_ciphers("DEFAULT:@SECLEVEL=0");
  const HttpResult r = old.post(m.url("/v1/otp/send"), send_body("alice", "+15551234567"));
  BOOST_TEST(r.status == 200, r.error);
}

BOOST_AUTO_TEST_CASE(start_failures_throw) {
  MockProvider missing(options_for(pki().dir + "/nope.pem", pki().server_key));
  BOOST_CHECK_THROW(missing.start(), std::runtime_error);
  MockProvider mismatched(options_for(pki().server_cert, pki().expired_key));
  BOOST_CHECK_THROW(mismatched.start(), std::runtime_error);
  MockProvider twice(server_options());
  BOOST_TEST(twice.start() > 0);
  BOOST_CHECK_THROW(twice.start(), std::runtime_error);
  MockOptions taken = server_options();
  taken.port = twice.port();
  MockProvider clash(taken);
  BOOST_CHECK_THROW(clash.start(), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(certificates)

HttpResult send_with(const std::string& cert, const std::string& key, const std::string& host) {
  Mock m(options_for(cert, key));
  CurlClient c(pki().ca_cert);
  c.resolve(host + ":" + std::to_string(m.mock.port()) + ":127.0.0.1");
  return c.post("https://" + host + ":" + std::to_string(m.mock.port()) + "/v1/otp/send",
                send_body("alice", "+15551234567"));
}

BOOST_AUTO_TEST_CASE(good_certificate_by_ip_and_name) {
  BOOST_TEST(send_with(pki().server_cert, pki().server_key, "127.0.0.1").status == 200);
  BOOST_TEST(send_with(pki().server_cert, pki().server_key, "localhost").status == 200);
}

BOOST_AUTO_TEST_CASE(expired_rejected) {
  const HttpResult r = send_with(pki().expired_cert, pki().expired_key, "127.0.0.1");
  BOOST_TEST(r.code == CURLE_PEER_FAILED_VERIFICATION, r.error);
  BOOST_TEST(r.error.find("expired") != std::string::npos, r.error);
}

BOOST_AUTO_TEST_CASE(wrong_host_rejected) {
  const HttpResult r = send_with(pki().wrong_host_cert, pki().wrong_host_key, "127.0.0.1");
  BOOST_TEST(r.code == CURLE_PEER_FAILED_VERIFICATION, r.error);
  // The certificate itself is fine: only the name is wrong.
  BOOST_TEST(send_with(pki().wrong_host_cert, pki().wrong_host_key, "wrong.example").status ==
             200);
}

BOOST_AUTO_TEST_CASE(untrusted_rejected) {
  const HttpResult r = send_with(pki().untrusted_cert, pki().untrusted_key, "127.0.0.1");
  BOOST_TEST(r.code == CURLE_PEER_FAILED_VERIFICATION, r.error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(control_api)

Json::Value object(const std::string& key, const Json::Value& value) {
  Json::Value v(Json::objectValue);
  v[key] = value;
  return v;
}

// Drives the mock as a shell script would: the control API needs no key.
struct ControlledMock : Mock {
  HttpResult control(const std::string& path, const Json::Value& body) {
    return client.post(url(path), body, "");
  }
};

BOOST_FIXTURE_TEST_CASE(last_code_as_plain_text, ControlledMock) {
  BOOST_TEST(client.get(url("/mock/last_code?to=%2B15551234567")).status == 404);
  BOOST_TEST(control("/mock/next_code", object("code", "135790")).status == 200);
  BOOST_TEST(send().status == 200);
  const HttpResult r = client.get(url("/mock/last_code?to=%2B15551234567"));
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body == "135790\n");
}

BOOST_FIXTURE_TEST_CASE(outbox_stats_and_requests, ControlledMock) {
  BOOST_TEST(control("/mock/next_code", object("code", "777777")).status == 200);
  const HttpResult sent_r = send();
  const HttpResult outbox = client.get(url("/mock/outbox"));
  BOOST_TEST(outbox.status == 200);
  BOOST_TEST_REQUIRE(outbox.json().isArray());
  BOOST_TEST(outbox.json()[0]["code"].asString() == "777777");
  BOOST_TEST(outbox.json()[0]["transaction_id"].asString() ==
             sent_r.json()["transaction_id"].asString());

  const HttpResult stats = client.get(url("/mock/stats"));
  BOOST_TEST(stats.json()["requests"].asInt() == 1);  // /mock/ calls are not recorded
  BOOST_TEST(stats.json()["handshakes"].asInt() == 1);
  BOOST_TEST(stats.json()["connections"].asInt() == 1);

  BOOST_TEST(control("/mock/expire", Json::Value(Json::objectValue)).status == 200);
  BOOST_TEST(verify(sent_r.json()["transaction_id"].asString(), "777777").status == 410);
  const HttpResult nowhere = client.get(url("/v1/nowhere"));
  BOOST_TEST(nowhere.status == 404);
  BOOST_TEST(nowhere.json()["error"].asString() == "not_found");
  BOOST_TEST(client.get(url("/mock/nowhere")).status == 404);

  const Json::Value recorded = client.get(url("/mock/requests")).json();
  BOOST_TEST_REQUIRE(recorded.isArray());
  BOOST_TEST_REQUIRE(recorded.size() == 3u);  // send, verify and /v1/nowhere
  BOOST_TEST(recorded[0]["path"].asString() == "/v1/otp/send");
  BOOST_TEST(recorded[0]["headers"]["authorization"].asString() == "Bearer test-api-key");
  BOOST_TEST(recorded[2]["path"].asString() == "/v1/nowhere");
  BOOST_TEST(control("/mock/reset", Json::Value(Json::objectValue)).status == 200);
  BOOST_TEST(mock.outbox().empty());
  BOOST_TEST(mock.requests().empty());
  BOOST_TEST(client.get(url("/mock/requests")).json().size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(settings_and_faults, ControlledMock) {
  BOOST_TEST(control("/mock/settings", object("max_sends", 1)).status == 200);
  BOOST_TEST(mock.settings().max_sends == 1);
  BOOST_TEST(mock.settings().api_key == "test-api-key");  // partial update
  BOOST_TEST(client.get(url("/mock/settings")).json()["max_sends"].asInt() == 1);
  const HttpResult bad = control("/mock/settings", object("max_sends", "x"));
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(bad.json()["message"].asString() == "max_sends");
  BOOST_TEST(send().status == 200);
  BOOST_TEST(send().status == 429);

  Json::Value fault = object("status", 502);
  fault["count"] = 1;
  BOOST_TEST(control("/mock/fault", fault).status == 200);
  BOOST_TEST(mock.fault().status == 502);
  BOOST_TEST(mock.fault().count == 1);
  BOOST_TEST(client.get(url("/mock/fault")).json()["status"].asInt() == 502);
  BOOST_TEST(control("/mock/fault", object("status", 42)).status == 400);
  BOOST_TEST(client.request("DELETE", url("/mock/fault"), "", {}).status == 200);
  BOOST_TEST(!mock.fault().any());
  // Unknown provider paths can be faulted too.
  BOOST_TEST(control("/mock/fault", object("status", 503)).status == 200);
  BOOST_TEST(client.get(url("/v2/other")).status == 503);
}

BOOST_AUTO_TEST_SUITE_END()
