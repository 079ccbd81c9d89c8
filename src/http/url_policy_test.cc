#include "http/url_policy.h"

#include <curl/curl.h>

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

#include "base/text.h"
#include "http/curl_transport.h"

using namespace otp::http;

namespace {

// libcurl's reading of a URL's scheme and host: the judge of parse_url,
// which the module uses without loading libcurl.
std::optional<UrlParts> curl_parts(const std::string& url) {
  const std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto part = [&](CURLUPart which) -> std::optional<std::string> {
    char* raw = nullptr;
    if (curl_url_get(u.get(), which, &raw, 0) != CURLUE_OK) return std::nullopt;
    std::string text = otp::to_lower(raw);
    curl_free(raw);
    return text;
  };
  auto scheme = part(CURLUPART_SCHEME);
  auto host = part(CURLUPART_HOST);
  if (!scheme || !host) return std::nullopt;
  return UrlParts{*scheme, *host};
}

const char* const kUrls[] = {
    "https://api.stytch.com/v1/otps/sms/send",
    "HTTPS://API.Example.COM:8443/a?b=c#d",
    "http://127.0.0.1:8080/x",
    "http://[::1]:9/x",
    "https://[2001:db8::1]/",
    "https://user:secret@host.example/v1",
    "https://host.example?x=1",
    "https://host.example#frag",
    "https://host_name.example/",
    // Read differently by lax parsers, or not URLs at all.
    "https://evil.example\\@127.0.0.1/",
    "https://a@b@127.0.0.1/",
    "http://127.1/",
    "http://0x7f.0.0.1/",
    "http://2130706433/",
    "http://127.000.0.1/",
    "http://127.0.0.01/",
    "http://127.0.0.1./",
    "https://1.2.3/",
    "https://cafe/",
    "https://0xcafe/",
    "https://host.12/",
    "https://host.1a/",
    "https://host.example:99999/",
    "https://host.example:/",
    "https://host.example:8x/",
    "https:///path",
    "https://",
    "https:/host.example/",
    "host.example/path",
    "//host.example/",
    "https://ho st.example/",
    "https://host.example/ path",
    "https://host\t.example/",
    "https://%31%32%37.0.0.1/",
    "https://[::1/",
    "https://[::1]x/",
    "https://[fe80::1%25eth0]/",
    "https://h\xc3\xa9.example/",
    "javascript:alert(1)",
    "1https://host.example/",
    "ftp://host.example/",
    "https://localhost./",
    "https://LOCALHOST/",
};

}  // namespace

BOOST_AUTO_TEST_SUITE(url_policy)

BOOST_AUTO_TEST_CASE(reads_scheme_and_host) {
  const auto parts = parse_url("HTTPS://user:pw@API.Example.COM:8443/a?b=c");
  BOOST_REQUIRE(parts);
  BOOST_TEST(parts->scheme == "https");
  BOOST_TEST(parts->host == "api.example.com");
  const auto v6 = parse_url("http://[::1]:9/x");
  BOOST_REQUIRE(v6);
  BOOST_TEST(v6->host == "[::1]");
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_plainly_a_url) {
  for (const char* url : {"https://evil.example\\@127.0.0.1/", "https://a@b@127.0.0.1/", "https://%31.0.0.1/",
                          "https://host.example:99999/", "https:///x", "host.example/x", "https://[::1/"})
    BOOST_TEST(!parse_url(url), url);
}

// Wherever parse_url accepts a URL, libcurl reads the same scheme and host.
BOOST_AUTO_TEST_CASE(agrees_with_libcurl_where_it_accepts) {
  int accepted = 0;
  for (const char* url : kUrls) {
    const auto ours = parse_url(url);
    if (!ours) continue;
    ++accepted;
    const auto theirs = curl_parts(url);
    BOOST_TEST_REQUIRE(theirs.has_value(), url);
    BOOST_TEST(theirs->scheme == ours->scheme, url);
    BOOST_TEST(theirs->host == ours->host, url);
  }
  BOOST_TEST(accepted >= 12);
  BOOST_TEST(parse_url("https://cafe/").has_value());  // a name of hex letters is a name
  BOOST_TEST(!parse_url("https://0xcafe/").has_value());
}

// The transport's own check refuses a URL that libcurl reads otherwise than
// the policy did (the parts given here stand for a parser that erred).
BOOST_AUTO_TEST_CASE(the_transport_checks_libcurls_reading) {
  BOOST_TEST(libcurl_reads_as("https://api.example/x", {"https", "api.example"}));
  BOOST_TEST(libcurl_reads_as("HTTP://[::1]:9/", {"http", "[::1]"}));
  BOOST_TEST(!libcurl_reads_as("https://api.example/x", {"https", "127.0.0.1"}));
  BOOST_TEST(!libcurl_reads_as("https://api.example/x", {"http", "api.example"}));
  BOOST_TEST(!libcurl_reads_as("not a url", {"https", "api.example"}));
}

// Whether or not the URL parses, its user information never shows.
BOOST_AUTO_TEST_CASE(redaction_hides_user_information_in_any_url) {
  BOOST_TEST(redact_url("http://bob:pw@proxy.example:3128") == "http://<redacted>@proxy.example:3128");
  BOOST_TEST(redact_url("http://bob:p@w@proxy.example:3128") == "http://<redacted>@proxy.example:3128");
  BOOST_TEST(redact_url("http://bob:p/w@proxy.example:3128/") == "http://<redacted>@proxy.example:3128/");
  BOOST_TEST(redact_url("bob:pw@proxy.example:3128") == "<redacted>@proxy.example:3128");
  BOOST_TEST(redact_url("https://api.example/v1") == "https://api.example/v1");
  BOOST_TEST(redact_url("not a url") == "not a url");
}

BOOST_AUTO_TEST_CASE(http_only_to_loopback) {
  BOOST_TEST(!url_problem("https://api.example/", 1024));
  BOOST_TEST(!url_problem("http://127.0.0.1:1/", 1024));
  BOOST_TEST(!url_problem("http://[::1]/", 1024));
  BOOST_TEST(!url_problem("http://localhost/", 1024));
  BOOST_TEST(url_problem("http://api.example/", 1024).has_value());
  BOOST_TEST(url_problem("http://127.1/", 1024).has_value());  // libcurl reads 127.0.0.1: refused, not guessed
  BOOST_TEST(url_problem("ftp://api.example/", 1024).has_value());
}

// Any local user can bind an unprivileged port while the real service is
// down: http:// (no server identity) only to a port only root can bind.
BOOST_AUTO_TEST_CASE(http_only_to_a_port_only_root_can_bind) {
  BOOST_TEST(!url_problem("http://127.0.0.1:1023/", 1024));
  BOOST_TEST(!url_problem("http://127.0.0.1/", 1024));  // 80
  const auto high = url_problem("http://127.0.0.1:8080/x", 1024);
  BOOST_REQUIRE(high.has_value());
  BOOST_TEST(*high == "'http://127.0.0.1:8080/x' uses http:// to port 8080, which any local user can bind "
                      "(ports from 1024 up: /proc/sys/net/ipv4/ip_unprivileged_port_start); use https://, or a port "
                      "below 1024");
  BOOST_TEST(url_problem("http://[::1]:1024/", 1024).has_value());
  BOOST_TEST(url_problem("http://localhost:5000/", 1024).has_value());
  BOOST_TEST(url_problem("http://127.0.0.1:80/", 80).has_value());  // a sysctl that lowered the start
  BOOST_TEST(!url_problem("https://127.0.0.1:8443/", 1024));        // TLS proves who answers
  BOOST_TEST(parse_url("http://127.0.0.1:8080/")->port == 8080);
  BOOST_TEST(parse_url("http://[::1]/")->port == 80);
  BOOST_TEST(parse_url("https://[::1]/")->port == 443);
  BOOST_TEST(parse_url("HTTP://h.example:0099/")->port == 99);
}

BOOST_AUTO_TEST_CASE(the_machines_unprivileged_port_start) {
  const int start = unprivileged_port_start();
  BOOST_TEST(start >= 0);
  BOOST_TEST(start <= 65536);
}

BOOST_AUTO_TEST_SUITE_END()
