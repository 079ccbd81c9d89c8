#include "http/curl_transport.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <dirent.h>
#include <openssl/x509.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/secret.h"
#include "base/text.h"
#include "http/url_policy.h"

namespace otp::http {
namespace {

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr char kUserAgent[] = "pam_otp/" PAM_OTP_VERSION;

struct EasyCleanup {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

struct CurlUrlFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlStrFree {
  void operator()(char* s) const { curl_free(s); }
};

std::optional<std::string> url_part(CURLU* u, CURLUPart part) {
  char* raw = nullptr;
  if (curl_url_get(u, part, &raw, 0) != CURLUE_OK) return std::nullopt;
  const std::unique_ptr<char, CurlStrFree> owned(raw);
  return to_lower(raw);
}

}  // namespace

bool libcurl_reads_as(const std::string& url, const UrlParts& parts) {
  const std::unique_ptr<CURLU, CurlUrlFree> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return false;
  return url_part(u.get(), CURLUPART_SCHEME) == parts.scheme && url_part(u.get(), CURLUPART_HOST) == parts.host;
}

namespace {

// A header list whose strings (credentials among them) are wiped before
// they are freed.
class HeaderList {
 public:
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() {
    for (curl_slist* item = list_; item != nullptr; item = item->next)
      if (item->data != nullptr) wipe_bytes(item->data, std::char_traits<char>::length(item->data));
    curl_slist_free_all(list_);
  }
  bool add(const char* line) {
    curl_slist* next = curl_slist_append(list_, line);
    if (next == nullptr) return false;
    list_ = next;
    return true;
  }
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

// Where the callbacks put what arrives.
struct Sink {
  Response* response;
  std::size_t max_body;
  std::size_t header_bytes = 0;
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->response->body.size() + n > sink->max_body) {
    sink->too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  sink->header_bytes += n;
  if (sink->header_bytes > kMaxHeaderBytes) return 0;
  const std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    sink->response->headers.clear();  // a new response (after 1xx)
    return n;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos)
    sink->response->headers.emplace_back(to_lower(trim(line.substr(0, colon))),
                                         std::string(trim(line.substr(colon + 1))));
  return n;
}

// Could this process make an exchange at all? Once libcurl has failed it
// has closed what it opened, so this opens what one exchange needs (a
// socket, the resolver's and the multi handle's socket pairs) and closes
// them again: a process out of descriptors or memory cannot.
bool can_open_descriptors() {
  int pairs[2][2] = {{-1, -1}, {-1, -1}};
  const int one = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool ok = one >= 0;
  for (auto& pair : pairs) ok = ok && ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0;
  const int saved = errno;
  for (auto& pair : pairs)
    for (int fd : pair)
      if (fd >= 0) ::close(fd);
  if (one >= 0) ::close(one);
  return ok || (saved != EMFILE && saved != ENFILE && saved != ENOMEM && saved != ENOBUFS);
}

// This machine's failure, not the provider's or the network's: no memory,
// descriptors or threads, a client certificate or TLS option libcurl
// cannot use. Never an outage that failmode could open (docs/design.md,
// "What a failed exchange means").
bool local_failure(CURLcode code, long os_error, std::string_view error) {
  switch (code) {
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
      return true;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      // libcurl's words when its resolver thread or socket pair cannot be made.
      return os_error == EMFILE || os_error == ENFILE || os_error == ENOMEM || os_error == ENOBUFS ||
             error.find("thread failed to start") != std::string_view::npos || !can_open_descriptors();
    default:
      return false;
  }
}

enum class ProxyKind { None, Http, Other };  // Other: SOCKS

// Did the exchange fail after the TCP connection to the provider was made
// and before its TLS session was verified? Through an HTTP proxy the
// connection counts once the proxy has opened the tunnel (a 2xx to
// CONNECT); through a SOCKS proxy once it connected (its own failures are
// CURLE_PROXY, taken apart before).
bool failed_in_handshake(CURL* c, ProxyKind proxy) {
  curl_off_t connected = 0, tls_done = 0;
  curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected);
  curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &tls_done);
  if (connected == 0 || tls_done != 0) return false;
  long tunnel = 0;
  curl_easy_getinfo(c, CURLINFO_HTTP_CONNECTCODE, &tunnel);
  return proxy != ProxyKind::Http || tunnel / 100 == 2;
}

// What a failed exchange means, from libcurl's code and what it knows of
// the connection (docs/design.md, "What a failed exchange means").
Failure classify(CURL* c, CURLcode code, const Sink& sink, bool https, ProxyKind proxy, std::string_view error) {
  if (sink.too_large) return Failure::TooLarge;
  if (code == CURLE_OK) return Failure::None;
  long os_error = 0;
  curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_error);
  if (local_failure(code, os_error, error)) return Failure::Refused;
  // A peer that accepted the connection and then said nothing is an
  // outage: a hung server's kernel still accepts, and whoever could hold a
  // handshake could as well drop the connection before it.
  if (code == CURLE_OPERATION_TIMEDOUT) return Failure::Timeout;
  if (code == CURLE_PROXY || code == CURLE_COULDNT_RESOLVE_PROXY) return Failure::Connect;  // the proxy's own
  long verify = X509_V_OK;
  curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &verify);
  if (https && (verify != X509_V_OK || failed_in_handshake(c, proxy))) return Failure::Untrusted;
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY:
    case CURLE_COULDNT_CONNECT: return Failure::Connect;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_USE_SSL_FAILED: return Failure::Untrusted;
    case CURLE_FILESIZE_EXCEEDED: return Failure::TooLarge;
    default: return Failure::Protocol;
  }
}

// libcurl appends TLS session secrets to the file named by SSLKEYLOGFILE,
// opening it when it initialises. In a setuid host (sudo, su) whoever runs
// the program controls the environment, and the file would be created as
// root anywhere they like (/etc/nologin...): there the variable is dropped
// before libcurl sees it, as the C library drops LD_PRELOAD.
void drop_untrusted_keylog_variable() {
  if (getauxval(AT_SECURE) != 0 && std::getenv("SSLKEYLOGFILE") != nullptr) unsetenv("SSLKEYLOGFILE");
}

// And wherever the environment came from, no key material is ever written:
// libcurl's key-log callback is removed from every TLS context.
CURLcode no_keylog(CURL* /*curl*/, void* ssl_ctx, void* /*user*/) {
  SSL_CTX_set_keylog_callback(static_cast<SSL_CTX*>(ssl_ctx), nullptr);
  return CURLE_OK;
}

namespace {

// Does libcurl's built-in store include a hashed directory (Debian:
// /etc/ssl/certs, beside the bundle /etc/ssl/certs/ca-certificates.crt)
// that holds certificates? Then the bundle adds nothing but its cost.
bool system_ca_path_only(CURL* c) {
  char* path = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CAPATH, &path) != CURLE_OK || path == nullptr) return false;
  DIR* dir = ::opendir(path);
  if (dir == nullptr) return false;
  bool hashed = false;
  for (const dirent* e = ::readdir(dir); e != nullptr && !hashed; e = ::readdir(dir)) {
    const std::string_view name(e->d_name);  // "5ad8a5d6.0": a subject hash link
    hashed = name.size() == 10 && name[8] == '.' && name.substr(0, 8).find_first_not_of("0123456789abcdef") == std::string_view::npos;
  }
  ::closedir(dir);
  return hashed;
}

}  // namespace

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(const TlsOptions& options) : options_(options) {
    drop_untrusted_keylog_variable();
    curl_global_init(CURL_GLOBAL_DEFAULT);  // reference counted and thread-safe in libcurl >= 7.84
    handle_.reset(curl_easy_init());
    // Once per login: the store does not change within one.
    system_ca_path_only_ = options_.ca_pem.empty() && options_.ca_path.empty() && handle_ &&
                           system_ca_path_only(handle_.get());
  }
  ~CurlTransport() override {
    handle_.reset();
    curl_global_cleanup();
  }

  Response perform(const Request& request) override;

 private:
  bool set_fixed_options(CURL* c, Sink& sink, char* error_buffer) const;
  bool set_request_options(CURL* c, const Request& request, const UrlParts& url, HeaderList& headers) const;

  TlsOptions options_;
  std::unique_ptr<CURL, EasyCleanup> handle_;
  bool system_ca_path_only_ = false;
};

// Options that hold for every exchange: security policy first.
bool CurlTransport::set_fixed_options(CURL* c, Sink& sink, char* error_buffer) const {
  bool ok = true;
  auto set = [&](CURLoption opt, auto value) { ok = ok && curl_easy_setopt(c, opt, value) == CURLE_OK; };
  set(CURLOPT_NOSIGNAL, 1L);  // no SIGALRM in a host process
  // A name lookup that does not finish within connect_timeout is abandoned
  // (its thread detached) instead of joined when the handle is reused or
  // cleaned up: a blackholed resolver would otherwise hold the login for
  // the resolver's own timeouts (10 s per nameserver and search domain).
  // The module is linked -z nodelete, so the thread's code stays mapped.
  set(CURLOPT_QUICK_EXIT, 1L);
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_NETRC, static_cast<long>(CURL_NETRC_IGNORED));
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_NOPROXY, "");
  // Dot segments in a path are sent as they are, never squashed by libcurl
  // (values in paths have their dots encoded; see template.cc).
  set(CURLOPT_PATH_AS_IS, 1L);
  set(CURLOPT_USERAGENT, kUserAgent);
  set(CURLOPT_SSL_CTX_FUNCTION, no_keylog);
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_body_bytes));
  set(CURLOPT_WRITEFUNCTION, on_body);
  set(CURLOPT_WRITEDATA, &sink);
  set(CURLOPT_HEADERFUNCTION, on_header);
  set(CURLOPT_HEADERDATA, &sink);
  // The TLS files as they were read and checked at load (never the paths,
  // which could point elsewhere by now). NOCOPY: the options outlive the
  // handle, and the key stays in memory that is wiped.
  auto blob = [&](CURLoption opt, std::string_view data) {
    curl_blob b{const_cast<char*>(data.data()), data.size(), CURL_BLOB_NOCOPY};
    set(opt, &b);
  };
  if (!options_.ca_pem.empty()) {
    blob(CURLOPT_CAINFO_BLOB, options_.ca_pem);
    set(CURLOPT_CAINFO, static_cast<char*>(nullptr));  // replace the system store, do not add to it
    set(CURLOPT_CAPATH, static_cast<char*>(nullptr));
  } else if (!options_.ca_path.empty()) {
    set(CURLOPT_CAINFO, static_cast<char*>(nullptr));
    set(CURLOPT_CAPATH, options_.ca_path.c_str());
  } else if (system_ca_path_only_) {
    // The system store as its hashed directory alone: OpenSSL then reads
    // the few certificates a chain needs instead of parsing the whole
    // bundle (~140 certificates, tens of ms of CPU) in every login.
    set(CURLOPT_CAINFO, static_cast<char*>(nullptr));
  }
  if (!options_.pin.empty()) set(CURLOPT_PINNEDPUBLICKEY, options_.pin.c_str());
  if (!options_.client_cert_pem.empty()) {
    blob(CURLOPT_SSLCERT_BLOB, options_.client_cert_pem);
    set(CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!options_.client_key_pem.empty()) {
    blob(CURLOPT_SSLKEY_BLOB, options_.client_key_pem.reveal());
    set(CURLOPT_SSLKEYTYPE, "PEM");
  }
  return ok;
}

bool CurlTransport::set_request_options(CURL* c, const Request& request, const UrlParts& url,
                                        HeaderList& headers) const {
  bool ok = true;
  auto set = [&](CURLoption opt, auto value) { ok = ok && curl_easy_setopt(c, opt, value) == CURLE_OK; };
  const bool plain_http = url.scheme == "http";
  set(CURLOPT_PROTOCOLS_STR, plain_http ? "http" : "https");
  // The proxy key is the only proxy: an empty string disables http_proxy,
  // https_proxy and ALL_PROXY from the environment, which whoever runs sudo
  // controls. Loopback never goes through a proxy: a proxy cannot reach our
  // loopback anyway, and http:// to loopback would hand it the API key in clear.
  set(CURLOPT_PROXY, is_loopback_host(url.host) ? "" : options_.proxy.c_str());
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  if (request.method == "GET") {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDS, request.body.c_str());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  const bool standard = request.method == "GET" || request.method == "POST";
  set(CURLOPT_CUSTOMREQUEST, standard ? nullptr : request.method.c_str());
  ok = ok && headers.add("Expect:");  // no 100-continue round trip
  for (const auto& [name, value] : request.headers) {
    Secret line(name);
    line.mutable_value().append(": ").append(value.reveal());
    ok = ok && headers.add(line.c_str());
  }
  set(CURLOPT_HTTPHEADER, headers.get());
  return ok;
}

Response CurlTransport::perform(const Request& request) {
  Response response;
  if (auto problem = url_problem(request.url)) {
    response.failure = Failure::Refused;
    response.error = *problem;
    return response;
  }
  const UrlParts url = *parse_url(request.url);  // url_problem accepted it
  if (!libcurl_reads_as(request.url, url)) {
    response.failure = Failure::Refused;
    response.error = "libcurl reads '" + redact_url(request.url) + "' differently; refused";
    return response;
  }
  CURL* c = handle_.get();
  char error_buffer[CURL_ERROR_SIZE] = {0};
  Sink sink{&response, options_.max_body_bytes};
  HeaderList headers;
  // This machine's fault (no memory, or a libcurl too old for an option we
  // set): refused like a bad URL, never an outage that failmode could open.
  if (c == nullptr || !set_fixed_options(c, sink, error_buffer) || !set_request_options(c, request, url, headers)) {
    response.failure = Failure::Refused;
    response.error = "cannot configure libcurl (this libcurl may be older than pam_otp needs)";
    return response;
  }
  // libcurl keeps the last connection's errno across transfers (and from
  // an address it tried before one that worked): only a new one is this
  // transfer's.
  long os_error_before = 0;
  curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_error_before);
  const CURLcode code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  curl_off_t total_us = 0;
  curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total_us);
  response.elapsed = std::chrono::microseconds(total_us);
  long connects = 0;
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
  response.new_connection = connects > 0;
  const std::string_view said = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  const ProxyKind proxy = options_.proxy.empty() || is_loopback_host(url.host) ? ProxyKind::None
                          : options_.proxy.find("://") == std::string::npos || options_.proxy.rfind("http", 0) == 0
                              ? ProxyKind::Http
                              : ProxyKind::Other;
  response.failure = classify(c, code, sink, url.scheme == "https", proxy, said);
  if (response.failure != Failure::None) {
    response.error = said;
    if (response.failure == Failure::Refused)
      response.error = "this machine could not make the exchange (" + std::string(said) + ")";
    long os_error = 0;
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_error);
    // The errno of this transfer's own connection to the provider, or 0.
    if (code == CURLE_COULDNT_CONNECT && proxy == ProxyKind::None && os_error != os_error_before)
      response.os_error = static_cast<int>(os_error);
    if (response.failure == Failure::TooLarge)  // our cap, or libcurl's from Content-Length
      response.error = "response body larger than " + std::to_string(options_.max_body_bytes) + " bytes";
    response.body.clear();
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);  // the list dies with this call
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  return response;
}

}  // namespace

std::unique_ptr<Transport> make_curl_transport(const TlsOptions& options) {
  return std::make_unique<CurlTransport>(options);
}

}  // namespace otp::http
