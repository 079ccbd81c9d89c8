// The fault matrix (issue #6): what the provider, the network or TLS can do
// wrong, through real libpam and libcurl. Every case asserts the PAM code,
// the user's message, that the call returned within timeout + 1 s (more in
// slow builds, see time_bound.h), and that no secret (API key, code, phone
// number, password) reached the log.
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>
#include <security/pam_appl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "base/base64.h"
#include "child_process.h"
#include "example_provider.h"
#include "pam_harness.h"
#include "temp_dir.h"
#include "time_bound.h"
#include "tls_cutter.h"
#include "trap_listener.h"

using namespace otp::testing;
using std::chrono::milliseconds;

namespace {

// Seconds for one exchange, and for connecting (longer in slow builds).
const int kTimeout = short_timeout();
const int kConnectTimeout = short_connect_timeout();
const char* kPhone = "+15551234567";

// libcurl's pin for a certificate: sha256// and the base64 SHA-256 of its SubjectPublicKeyInfo.
std::string spki_pin(const std::string& cert_path) {
  FILE* f = std::fopen(cert_path.c_str(), "r");
  BOOST_REQUIRE(f != nullptr);
  std::unique_ptr<X509, void (*)(X509*)> cert(PEM_read_X509(f, nullptr, nullptr, nullptr), X509_free);
  std::fclose(f);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &der);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<std::size_t>(len), digest);
  OPENSSL_free(der);
  return "sha256//" + otp::base64_encode(std::string(reinterpret_cast<char*>(digest), sizeof digest));
}

std::unique_ptr<otp::mock::MockProvider> mock_with(const std::string& cert, const std::string& key, int tls = 0) {
  otp::mock::MockOptions options{cert, key};
  options.min_tls_version = tls;
  options.threads = 8;
  auto mock = std::make_unique<otp::mock::MockProvider>(options);
  mock->start();
  return mock;
}

// A directory of hashed CA certificates (as openssl rehash makes) holding
// the tests' CA, for ca_path.
std::string hashed_ca_directory(const std::string& parent) {
  const std::string dir = parent + "/certs";
  BOOST_REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  FILE* f = std::fopen(Shared::pki().ca_cert.c_str(), "r");
  BOOST_REQUIRE(f != nullptr);
  std::unique_ptr<X509, void (*)(X509*)> cert(PEM_read_X509(f, nullptr, nullptr, nullptr), X509_free);
  std::fclose(f);
  BOOST_REQUIRE(cert != nullptr);
  char name[16];
  std::snprintf(name, sizeof name, "%08lx.0", X509_subject_name_hash(cert.get()));
  FILE* out = std::fopen((dir + "/" + name).c_str(), "w");
  BOOST_REQUIRE(out != nullptr);
  PEM_write_X509(out, cert.get());
  std::fclose(out);
  return dir;
}

struct FaultFixture {
  PamHarness pam;

  // The example provider at url_toml (a string or an array), short timeouts, debug on.
  void use(const std::string& url_toml, const std::string& top = "") {
    pam.write_config("users_file = \"" + pam.users_path() + "\"\nca_file = \"" + Shared::pki().ca_cert +
                     "\"\ntimeout = " + std::to_string(kTimeout) + "\nconnect_timeout = " + std::to_string(kConnectTimeout) + "\ndebug = true\n" + top +
                     "\n" + mock_provider_toml(url_toml));
  }
  void use_url(const std::string& url, const std::string& top = "") { use("\"" + url + "\"", top); }

  PamResult login(std::vector<Responder> codes = {}) {
    codes.insert(codes.begin(), say("alice-password"));
    return pam.authenticate("alice", std::move(codes));
  }

  static void expect_no_secrets(const PamResult& r) {
    for (const char* secret : {"test-api-key", kPhone, "alice-password"})
      BOOST_TEST(!r.logged(secret), "the log holds " << secret);
  }
  static void expect_bounded(const PamResult& r) { BOOST_TEST(r.elapsed < within(milliseconds(kTimeout * 1000))); }

  // failmode = "secure": refused, told so, never asked for a code.
  static void expect_unavailable(const PamResult& r, const std::string& logged) {
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
    BOOST_TEST(r.errors == std::vector<std::string>{"The code service is unavailable."}, boost::test_tools::per_element());
    BOOST_TEST(r.prompts.size() == 1u);  // the password only
    BOOST_TEST(r.logged("result=unavailable"));
    BOOST_TEST(r.logged(logged), "the log says " << logged);
    expect_bounded(r);
    expect_no_secrets(r);
  }

  // A certificate or pin an on-path attacker would present: refused like an
  // outage, but at LOG_ERR, as result=untrusted_provider, whatever failmode says.
  static void expect_untrusted(const PamResult& r) {
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_AUTHINFO_UNAVAIL);
    BOOST_TEST(r.errors == std::vector<std::string>{"The code service is unavailable."}, boost::test_tools::per_element());
    BOOST_TEST(r.prompts.size() == 1u);
    BOOST_TEST(r.logged("SYSLOG(3)"));  // LOG_ERR
    BOOST_TEST(r.logged("result=untrusted_provider"));
    BOOST_TEST(r.logged("tls_verification:"));
    expect_bounded(r);
    expect_no_secrets(r);
  }

  // Refused as untrusted under failmode "secure" and "safe" alike.
  void expect_untrusted_in_both_failmodes(const std::string& url) {
    for (const char* failmode : {"secure", "safe"}) {
      use_url(url, std::string("failmode = \"") + failmode + "\"");
      BOOST_TEST_CONTEXT("failmode = " << failmode) { expect_untrusted(login()); }
    }
  }

  void with_fault(otp::mock::Fault fault) {
    Shared::mock().set_fault(fault);
    use_url(pam.mock_url());
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(fault_matrix, FaultFixture)

BOOST_AUTO_TEST_CASE(slow_but_within_the_timeout_still_works) {
  otp::mock::Fault slow;
  slow.delay_ms = 500;
  with_fault(slow);
  const auto r = login({code_for(kPhone)});
  Shared::mock().clear_fault();
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  expect_no_secrets(r);
}

BOOST_AUTO_TEST_CASE(slower_than_the_timeout) {
  otp::mock::Fault slow;
  slow.delay_ms = (kTimeout + 2) * 1000;
  with_fault(slow);
  const auto r = login();
  Shared::mock().clear_fault();
  expect_unavailable(r, "timeout:");
}

BOOST_AUTO_TEST_CASE(accepts_the_connection_and_never_answers) {
  TrapListener silent(TrapListener::Mode::Hold);  // not even the TLS handshake
  use_url("https://127.0.0.1:" + std::to_string(silent.port()));
  const auto r = login();
  expect_unavailable(r, "timeout:");
  BOOST_TEST(silent.connections() == 1);
}

BOOST_AUTO_TEST_CASE(hangs_after_the_handshake) {
  otp::mock::Fault hang;
  hang.hang = true;
  with_fault(hang);
  const auto r = login();
  Shared::mock().clear_fault();
  expect_unavailable(r, "timeout:");
}

BOOST_AUTO_TEST_CASE(resets_mid_response) {
  otp::mock::Fault reset;
  reset.reset = true;
  with_fault(reset);
  expect_unavailable(login(), "protocol:");
}

BOOST_AUTO_TEST_CASE(server_errors_500_502_503) {
  for (int status : {500, 502, 503}) {
    otp::mock::Fault error;
    error.status = status;
    with_fault(error);
    expect_unavailable(login(), "HTTP " + std::to_string(status) + " is transient");
  }
}

BOOST_AUTO_TEST_CASE(malformed_json_in_a_200) {
  otp::mock::Fault malformed;
  malformed.malformed_json = true;
  with_fault(malformed);
  expect_unavailable(login(), "HTTP 200 with a body that is not valid JSON");
}

BOOST_AUTO_TEST_CASE(ten_mebibytes_in_a_200) {
  otp::mock::Fault huge;
  huge.oversized_bytes = 10 << 20;
  with_fault(huge);
  expect_unavailable(login(), "response body larger than 65536 bytes");
}

BOOST_AUTO_TEST_CASE(a_redirect_to_another_host_is_not_followed) {
  TrapListener elsewhere;
  otp::mock::Fault redirect;
  redirect.status = 302;
  redirect.location = "https://127.0.0.1:" + std::to_string(elsewhere.port()) + "/v1/otp/send";
  with_fault(redirect);
  const auto r = login();
  Shared::mock().clear_fault();
  expect_unavailable(r, "HTTP 302 matched no rule");
  BOOST_TEST(elsewhere.connections() == 0);
}

// Whatever breaks the TLS session between the TCP connection and a verified
// provider is what an on-path attacker can produce: refused as
// untrusted_provider under both failmodes, and nothing reaches the server.
BOOST_AUTO_TEST_CASE(wrong_host_name_in_the_certificate) {
  const auto& pki = Shared::pki();
  const auto mock = mock_with(pki.wrong_host_cert, pki.wrong_host_key);
  expect_untrusted_in_both_failmodes(mock->base_url());
  BOOST_TEST(mock->requests().empty());
}

BOOST_AUTO_TEST_CASE(certificate_from_an_untrusted_ca) {
  const auto& pki = Shared::pki();
  const auto mock = mock_with(pki.untrusted_cert, pki.untrusted_key);
  expect_untrusted_in_both_failmodes(mock->base_url());
  BOOST_TEST(mock->requests().empty());
}

BOOST_AUTO_TEST_CASE(expired_certificate) {
  const auto& pki = Shared::pki();
  const auto mock = mock_with(pki.expired_cert, pki.expired_key);
  expect_untrusted_in_both_failmodes(mock->base_url());
  BOOST_TEST(mock->requests().empty());
}

// A certificate that names the configured CA as its issuer (name and key
// identifier) but is signed by another key: libcurl reports it as a failed
// handshake (CURLE_SSL_CONNECT_ERROR), not as a failed verification.
BOOST_AUTO_TEST_CASE(forged_issuer_with_ca_file) {
  const auto& pki = Shared::pki();
  const auto mock = mock_with(pki.forged_cert, pki.forged_key);
  expect_untrusted_in_both_failmodes(mock->base_url());
  BOOST_TEST(mock->requests().empty());
}

BOOST_AUTO_TEST_CASE(forged_issuer_with_ca_path) {
  const auto& pki = Shared::pki();
  const auto mock = mock_with(pki.forged_cert, pki.forged_key);
  const std::string dir = hashed_ca_directory(pam.dir());
  for (const char* failmode : {"secure", "safe"}) {
    pam.write_config("users_file = \"" + pam.users_path() + "\"\nca_path = \"" + dir + "\"\ntimeout = " +
                     std::to_string(kTimeout) + "\nconnect_timeout = " + std::to_string(kConnectTimeout) +
                     "\ndebug = true\nfailmode = \"" + failmode + "\"\n" + mock_provider_toml("\"" + mock->base_url() + "\""));
    expect_untrusted(login());
  }
  BOOST_TEST(mock->requests().empty());
  // The same directory trusts the real server: the refusal above is the forgery's.
  use_url(pam.mock_url());
  pam.write_config("users_file = \"" + pam.users_path() + "\"\nca_path = \"" + dir + "\"\n" +
                   mock_provider_toml("\"" + pam.mock_url() + "\""));
  const auto r = login({code_for(kPhone)});
  BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());
}

BOOST_AUTO_TEST_CASE(a_handshake_the_server_aborts_after_its_server_hello) {
  TlsCutter cutter(Shared::mock().port());
  expect_untrusted_in_both_failmodes("https://127.0.0.1:" + std::to_string(cutter.port()));
  BOOST_TEST(cutter.cut() == 2);
  BOOST_TEST(Shared::mock().requests().empty());
}

BOOST_AUTO_TEST_CASE(server_offering_only_tls_1_0_or_1_1) {
  const auto& pki = Shared::pki();
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    const auto mock = mock_with(pki.server_cert, pki.server_key, version);
    expect_untrusted_in_both_failmodes(mock->base_url());
    BOOST_TEST(mock->requests().empty());
  }
}

BOOST_AUTO_TEST_CASE(server_offering_only_a_cipher_libcurl_refuses) {
  const auto& pki = Shared::pki();
  otp::mock::MockOptions options{pki.server_cert, pki.server_key};
  options.cipher_list = "NULL-SHA256";
  options.threads = 8;  // (valgrind allows 500 threads in all)
  otp::mock::MockProvider mock(options);
  mock.start();
  expect_untrusted_in_both_failmodes(mock.base_url());
  BOOST_TEST(mock.requests().empty());
}

// A client certificate this machine cannot use (its key is another
// certificate's) is this machine's failure: refused, never an outage that
// failmode = "safe" would let through.
BOOST_AUTO_TEST_CASE(an_unusable_client_certificate_is_a_refusal_not_an_outage) {
  const auto& pki = Shared::pki();
  use_url(pam.mock_url(), "failmode = \"safe\"\nclient_cert = \"" + pki.server_cert + "\"\nclient_key = \"" +
                              pki.untrusted_key + "\"");
  const auto r = login();
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged("result=config_error"));
  BOOST_TEST(r.logged("this machine could not make the exchange"));
  BOOST_TEST(Shared::mock().requests().empty());
  expect_no_secrets(r);
}

BOOST_AUTO_TEST_CASE(pinned_public_key) {
  const std::string pin = spki_pin(Shared::pki().server_cert);
  use_url(pam.mock_url(), "pinned_public_key = \"" + pin + "\"");
  const auto right = login({code_for(kPhone)});
  BOOST_TEST_INFO(right.describe());
  BOOST_TEST(right.rc == PAM_SUCCESS);
  Shared::mock().reset();
  const std::string other = spki_pin(Shared::pki().untrusted_cert);
  use_url(pam.mock_url(), "pinned_public_key = \"" + other + "\"");
  expect_untrusted(login());
  BOOST_TEST(Shared::mock().requests().empty());
}

BOOST_AUTO_TEST_CASE(a_host_name_that_does_not_resolve) {
  use_url("https://pam-otp-test.invalid");
  expect_unavailable(login(), "connect:");
}

BOOST_AUTO_TEST_CASE(proxy_variables_in_the_environment_are_never_used) {
  TrapListener trap;
  const std::string proxy = "http://127.0.0.1:" + std::to_string(trap.port());
  const char* names[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
  for (const char* name : names) setenv(name, proxy.c_str(), 1);
  setenv("NO_PROXY", "", 1);  // "use the proxy for everything", were it read
  use_url(pam.mock_url());
  const auto r = login({code_for(kPhone)});
  for (const char* name : names) unsetenv(name);
  unsetenv("NO_PROXY");
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(trap.connections() == 0);
  expect_no_secrets(r);
}

BOOST_AUTO_TEST_CASE(the_proxy_key_is_the_only_proxy) {
  // (A host that is not loopback: loopback never goes through a proxy. With
  // a proxy, libcurl leaves the name to the proxy and resolves nothing.)
  TrapListener proxy;  // accepts and closes: not a working proxy
  setenv("NO_PROXY", "provider.invalid", 1);  // would bypass it, were it read
  use_url("https://otp.provider.invalid", "proxy = \"http://127.0.0.1:" + std::to_string(proxy.port()) + "\"");
  const auto r = login();
  unsetenv("NO_PROXY");
  // (How the broken proxy fails varies: reset, or CONNECT aborted.)
  expect_unavailable(r, "reason=");
  BOOST_TEST(proxy.connections() >= 1);
}

// Loopback never goes through the proxy: with http:// the proxy would get
// the API key and the codes in clear.
BOOST_AUTO_TEST_CASE(loopback_urls_never_go_through_the_proxy) {
  TrapListener proxy;
  const std::string proxy_line = "proxy = \"http://127.0.0.1:" + std::to_string(proxy.port()) + "\"";
  use_url(pam.mock_url(), proxy_line);
  const auto https = login({code_for(kPhone)});
  BOOST_TEST_INFO(https.describe());
  BOOST_TEST(https.rc == PAM_SUCCESS);
  // A plain-http "provider" on loopback that only counts, on a port only
  // root may bind (the only plain-http ports allowed).
  const auto provider = TrapListener::on_privileged_port();
  if (!provider) {
    BOOST_TEST_MESSAGE("skipped the plain-http half: binding a port below ip_unprivileged_port_start needs root "
                       "(CI runs as root)");
    return;
  }
  use_url("http://127.0.0.1:" + std::to_string(provider->port()), proxy_line);
  const auto http = login();
  BOOST_TEST_INFO(http.describe());
  BOOST_TEST(http.rc == PAM_AUTHINFO_UNAVAIL);
  BOOST_TEST(provider->connections() == 1);
  BOOST_TEST(proxy.connections() == 0);
}

// "." and ".." from a value reach the provider encoded, never as dot
// segments that libcurl (or the server) would squash into another path.
BOOST_AUTO_TEST_CASE(dot_segments_from_values_stay_encoded_on_the_wire) {
  pam.write_users("alice phone=+15551234567 account=..\n");
  std::string text = pam.default_config();
  const std::string url = "url = \"/v1/otp/send\"";
  text.replace(text.find(url), url.size(), "url = \"/v1/otp/send/${account}/x\"");
  pam.write_config(text);
  const auto r = login();
  BOOST_TEST_INFO(r.describe());
  const auto requests = Shared::mock().requests();
  BOOST_REQUIRE(requests.size() == 1u);
  BOOST_TEST(requests[0].target == "/v1/otp/send/%2E%2E/x");
}

BOOST_AUTO_TEST_CASE(base_url_list_fails_over_from_a_dead_url) {
  use("[\"https://127.0.0.1:1\", \"" + pam.mock_url() + "\"]");
  const auto r = login({code_for(kPhone)});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
  BOOST_TEST(r.logged("connect:"));  // the dead one, in debug
  expect_bounded(r);
  expect_no_secrets(r);
}

BOOST_AUTO_TEST_CASE(base_url_list_fails_over_on_5xx_but_not_on_4xx) {
  const auto& pki = Shared::pki();
  const auto second = mock_with(pki.server_cert, pki.server_key);
  use("[\"" + pam.mock_url() + "\", \"" + second->base_url() + "\"]");
  otp::mock::Fault busy;
  busy.status = 503;
  Shared::mock().set_fault(busy);
  Responder from_second = [&second](const std::string&) { return second->last_code_for(kPhone); };
  const auto failover = login({from_second});
  BOOST_TEST_INFO(failover.describe());
  BOOST_TEST(failover.rc == PAM_SUCCESS);
  BOOST_TEST(second->requests().size() == 2u);  // send and verify both went to the second

  second->reset();
  otp::mock::Fault refused;
  refused.status = 403;
  Shared::mock().set_fault(refused);
  const auto no_failover = login();
  Shared::mock().clear_fault();
  expect_unavailable(no_failover, "HTTP 403 matched no rule");
  BOOST_TEST(second->requests().empty());
}

// DNS that never answers (a blackholed resolver, in namespaces of the test's
// own): the login still ends within deadline + 1 s, and with one base_url
// within timeout + 1 s, whatever the resolver's own timeouts (10 s per
// nameserver and search domain) would be.
BOOST_AUTO_TEST_CASE(blackholed_dns) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: the blackholed-DNS cases need root for their namespaces (CI runs as root)");
    return;
  }
  struct Case {
    int nameservers;
    std::string search, base_url;
    int bound_s;  // the module's own bound for this login
  };
  const std::string one = "\"https://otp.blackhole.test\"";
  const std::string three = "[\"https://a.blackhole.test\", \"https://b.blackhole.test\", \"https://otp\"]";
  for (const Case& c : {Case{1, "", one, 3}, Case{3, "corp.test example.test", one, 3},
                        Case{3, "corp.test example.test", three, 5}}) {
    pam.write_config("users_file = \"" + pam.users_path() + "\"\nca_file = \"" + Shared::pki().ca_cert +
                     "\"\ntimeout = 3\nconnect_timeout = 2\ndeadline = 5\ndebug = true\n" + mock_provider_toml(c.base_url));
    pam.write_stack();
    std::vector<std::string> env = nss_only_environment();
    for (const char* name : {"LD_PRELOAD", "PAM_WRAPPER", "PAM_WRAPPER_RUNTIME_DIR", "PAM_WRAPPER_DEBUGLEVEL"})
      if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
    env.push_back(std::string("PAM_WRAPPER_SERVICE_DIR=") + std::getenv("PAM_WRAPPER_RUNTIME_DIR"));
    const std::string out = pam.dir() + "/blackhole.out";
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = spawn_process({PAM_OTP_BLACKHOLE_DNS_PATH, std::to_string(c.nameservers), c.search, "--",
                                     PAM_OTP_LOGIN_PATH, pam.service, "alice", "alice-password",
                                     "https://127.0.0.1:1", Shared::pki().ca_cert, kPhone},
                                    env, "", out);
    BOOST_REQUIRE(pid > 0);
    int status = 0;
    waitpid(pid, &status, 0);
    const auto elapsed = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    const std::string output = read_file(out);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 125) {
      BOOST_TEST_MESSAGE("skipped: cannot make the namespaces here: " << output);
      return;
    }
    BOOST_TEST_MESSAGE(c.nameservers << " nameservers, search \"" << c.search << "\", base_url " << c.base_url
                                  << ", " << elapsed.count() << " ms\n" << output);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 1));
    // PAM_AUTHINFO_UNAVAIL, as pam_strerror words it.
    BOOST_TEST(output.find("otp-login alice: Authentication service cannot retrieve authentication info") !=
               std::string::npos);
    BOOST_TEST(elapsed < within(milliseconds(c.bound_s * 1000)));
  }
}

BOOST_AUTO_TEST_SUITE_END()
