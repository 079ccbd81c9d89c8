#include "directory/ldap_client.h"

#include <ldap.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <string_view>
#include <thread>

namespace otp::directory {
namespace {

struct FreeMessage {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};
using Message = std::unique_ptr<LDAPMessage, FreeMessage>;

// What is left until `deadline`, at least a millisecond (libldap reads 0
// as "no limit").
timeval left(Clock::time_point deadline) {
  const auto ms = std::max<long long>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

// Printable ASCII of a server's words, at most `max` bytes.
std::string printable(const char* text, std::size_t max = 200) {
  std::string out;
  for (const char* p = text; p != nullptr && *p != '\0' && out.size() < max; ++p)
    out += (*p >= 0x20 && *p < 0x7f) ? *p : '?';
  return out;
}

// libldap's words for `rc`, and the server's diagnostic if it gave one.
std::string words(LDAP* ld, int rc) {
  std::string out = ldap_err2string(rc);
  char* diagnostic = nullptr;
  if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == LDAP_OPT_SUCCESS && diagnostic != nullptr) {
    // (libldap's own "(unknown error code)" for a failed TLS handshake says nothing.)
    if (*diagnostic != '\0' && std::string_view(diagnostic) != "(unknown error code)")
      out += " (" + printable(diagnostic) + ")";
    ldap_memfree(diagnostic);
  }
  return out;
}

// A failed operation's kind. An LDAP result code is the server's answer,
// over TLS verified before any operation: that it cannot serve now, or a
// refusal of our bind or search, which is configuration (or someone who
// locked the bind account out) and must not pass for an outage.
// libldap's own codes (negative) mean the answer never came.
Failure failure_of(int rc) {
  switch (rc) {
    case LDAP_BUSY:
    case LDAP_UNAVAILABLE:
    case LDAP_UNWILLING_TO_PERFORM:
    case LDAP_TIMELIMIT_EXCEEDED:
    case LDAP_ADMINLIMIT_EXCEEDED:
    case LDAP_LOOP_DETECT:
    case LDAP_OTHER:
      return Failure::Answered;
    default:
      return rc > 0 ? Failure::Refused : Failure::NoAnswer;
  }
}

void set(LDAP* ld, int option, const void* value, const char* what) {
  if (ldap_set_option(ld, option, value) != LDAP_OPT_SUCCESS)
    throw Unavailable(std::string("cannot set ") + what, Failure::Local);
}

// libldap's own limits, a second past the deadline: the watchdog ends
// every wait at the deadline itself, so that "too late" is one fact.
constexpr std::chrono::seconds kPastDeadline{1};

// The synchronous calls' limit: what is left of the deadline.
void limit(LDAP* ld, Clock::time_point deadline) {
  const timeval t = left(deadline + kPastDeadline);
  set(ld, LDAP_OPT_NETWORK_TIMEOUT, &t, "the network timeout");
  set(ld, LDAP_OPT_TIMEOUT, &t, "the timeout");
}

// One connection, and what libldap keeps pointers to: the callback
// structure (ldap_set_option does not copy it) and a watchdog. libldap 2.5
// reads an ldaps:// handshake (GnuTLS) without any timeout, and retries
// forever when a socket timeout makes the read fail: a server that
// accepts and then says nothing would hold the login for good. So each of
// the connection's sockets is shut down at the deadline (its reads then
// end), unless libldap has closed it before (lc_del).
class Connection {
 public:
  explicit Connection(Clock::time_point deadline)
      : deadline_(deadline), callbacks_{added, removed, this}, watchdog_([this] { watch(); }) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    {
      const std::lock_guard<std::mutex> hold(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    watchdog_.join();
    if (ld_ != nullptr) ldap_unbind_ext_s(ld_, nullptr, nullptr);
  }
  LDAP* get() const { return ld_; }
  ldap_conncb* callbacks() { return &callbacks_; }
  // Has a TCP connection been made? (The connect callback comes as the
  // asynchronous connect starts: the socket's peer says.)
  bool connected() {
    const std::lock_guard<std::mutex> hold(mutex_);
    return connected_ || std::any_of(sockets_.begin(), sockets_.end(), has_peer);
  }
  bool expired() {
    const std::lock_guard<std::mutex> hold(mutex_);
    return expired_ || Clock::now() >= deadline_;
  }

  LDAP* ld_ = nullptr;

 private:
  static bool has_peer(int fd) {
    sockaddr_storage peer{};
    socklen_t size = sizeof peer;
    return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) == 0;
  }
  static int added(LDAP*, Sockbuf* sb, LDAPURLDesc*, sockaddr*, ldap_conncb* cb) {
    ber_socket_t fd = -1;
    if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) != 1 || fd < 0) return -1;
    auto* self = static_cast<Connection*>(cb->lc_arg);
    const std::lock_guard<std::mutex> hold(self->mutex_);
    if (self->expired_) ::shutdown(fd, SHUT_RDWR);
    self->sockets_.push_back(fd);
    return 0;
  }
  static void removed(LDAP*, Sockbuf* sb, ldap_conncb* cb) {
    ber_socket_t fd = -1;
    if (sb == nullptr || ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) != 1) return;
    auto* self = static_cast<Connection*>(cb->lc_arg);
    const std::lock_guard<std::mutex> hold(self->mutex_);
    self->connected_ = self->connected_ || has_peer(fd);
    std::erase(self->sockets_, fd);
  }
  void watch() {
    std::unique_lock<std::mutex> hold(mutex_);
    if (wake_.wait_until(hold, deadline_, [this] { return done_; })) return;
    expired_ = true;
    for (const int fd : sockets_) ::shutdown(fd, SHUT_RDWR);
  }

  Clock::time_point deadline_;
  ldap_conncb callbacks_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<int> sockets_;
  bool done_ = false, expired_ = false, connected_ = false;
  std::thread watchdog_;  // (last: it starts with everything above made)
};

// A connection to `uri` with TLS verified against options.ca_file and its
// bind done.
std::unique_ptr<Connection> open(const std::string& uri, const LdapOptions& o, Clock::time_point deadline) {
  const bool ldaps = uri.rfind("ldaps://", 0) == 0;
  if (!ldaps && uri.rfind("ldap://", 0) != 0)
    throw Unavailable("'" + printable(uri.c_str()) + "' is not an ldap:// or ldaps:// URI", Failure::Local);
  auto ld = std::make_unique<Connection>(deadline);
  if (ldap_initialize(&ld->ld_, uri.c_str()) != LDAP_SUCCESS || ld->ld_ == nullptr)
    throw Unavailable("'" + printable(uri.c_str()) + "' is not an LDAP URI", Failure::Local);
  LDAP* const raw = ld->ld_;
  const int v3 = LDAP_VERSION3, hard = LDAP_OPT_X_TLS_HARD, tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2, client = 0;
  set(raw, LDAP_OPT_PROTOCOL_VERSION, &v3, "LDAPv3");
  // libldap would follow a referral with its own rules (no StartTLS to an
  // ldap:// one, an anonymous bind): find_entry follows them with ours.
  set(raw, LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "no referrals");
  // An asynchronous connect: a synchronous one with a network timeout
  // makes libldap retry the TLS handshake without waiting, a core spun
  // until the deadline against a server that accepts and says nothing.
  set(raw, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON, "an asynchronous connect");
  set(raw, LDAP_OPT_X_TLS_REQUIRE_CERT, &hard, "TLS verification");
  // The host name in the certificate's subjectAltName, not its common name.
  set(raw, LDAP_OPT_X_TLS_REQUIRE_SAN, &hard, "a subjectAltName for the host");
  set(raw, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12, "TLS 1.2 at least");
  set(raw, LDAP_OPT_X_TLS_CACERTFILE, o.ca_file.c_str(), "the CA file");
  // ca_file is the only trust: no directory of CAs from ldap.conf (or, for
  // root's own programs, LDAPTLS_CACERTDIR); aliases are not followed to
  // entries the filter did not find. (Under su and sudo libldap reads no
  // LDAP* variable nor rc file of the caller: euid != uid.)
  set(raw, LDAP_OPT_X_TLS_CACERTDIR, nullptr, "no CA directory");
  const int never = LDAP_DEREF_NEVER;
  set(raw, LDAP_OPT_DEREF, &never, "no alias dereferencing");
  if (!o.client_cert.empty()) {
    set(raw, LDAP_OPT_X_TLS_CERTFILE, o.client_cert.c_str(), "the client certificate");
    set(raw, LDAP_OPT_X_TLS_KEYFILE, o.client_key.c_str(), "the client key");
  }
  set(raw, LDAP_OPT_CONNECT_CB, ld->callbacks(), "the deadline's watchdog");
  // A TLS context of this connection's own, from the options above (not
  // the process's, which ldap.conf or the environment may have set up).
  set(raw, LDAP_OPT_X_TLS_NEWCTX, &client, "a TLS context");
  limit(raw, deadline);
  int rc = ldaps ? LDAP_SUCCESS : ldap_start_tls_s(raw, nullptr, nullptr);
  if (rc == LDAP_SUCCESS && ldaps) rc = ldap_connect(raw);
  // Connected, and TLS did not come up before the deadline: whatever the
  // reason, an on-path attacker could have produced it.
  if (rc != LDAP_SUCCESS)
    throw Unavailable(printable(uri.c_str()) + ": " + (ldaps ? "" : "StartTLS: ") + words(raw, rc),
                      ld->expired() || !ld->connected() ? Failure::NoAnswer : Failure::Untrusted);
  limit(raw, deadline);
  if (!o.bind_dn.empty()) {
    const std::string_view password = o.bind_password.reveal();
    berval cred{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
    rc = ldap_sasl_bind_s(raw, o.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
  } else if (!o.client_cert.empty()) {
    berval none{0, nullptr};
    rc = ldap_sasl_bind_s(raw, nullptr, "EXTERNAL", &none, nullptr, nullptr, nullptr);
  }
  if (rc != LDAP_SUCCESS) throw Unavailable(printable(uri.c_str()) + ": bind: " + words(raw, rc), failure_of(rc));
  return ld;
}

Entry read_entry(LDAP* ld, LDAPMessage* e, const std::vector<std::string>& attributes) {
  Entry entry;
  if (char* dn = ldap_get_dn(ld, e)) {
    entry.dn = dn;
    ldap_memfree(dn);
  }
  for (const auto& attribute : attributes) {
    berval** values = ldap_get_values_len(ld, e, attribute.c_str());
    if (values == nullptr) continue;
    auto& out = entry.values[attribute];
    for (berval** v = values; *v != nullptr; ++v) out.emplace_back((*v)->bv_val, (*v)->bv_len);
    ldap_value_free_len(values);
  }
  return entry;
}

// What a search found: the entry (or none), or the servers that hold the
// base instead (a referral). Continuation references (Active Directory's
// DNS and configuration partitions, from a domain's root) are not
// followed: like SSSD, the answer is this server's.
struct Found {
  std::optional<Entry> entry;
  std::vector<std::string> referrals;
};

std::vector<std::string> referrals_of(LDAP* ld, LDAPMessage* result) {
  std::vector<std::string> out;
  char** urls = nullptr;
  if (result != nullptr && ldap_parse_result(ld, result, nullptr, nullptr, nullptr, &urls, nullptr, 0) == LDAP_SUCCESS &&
      urls != nullptr) {
    for (char** u = urls; *u != nullptr; ++u) out.emplace_back(*u);
    ldap_memvfree(reinterpret_cast<void**>(urls));
  }
  return out;
}

Found search(LDAP* ld, const LdapOptions& o, const std::string& base, const std::string& filter,
             Clock::time_point deadline) {
  std::vector<char*> attributes;
  for (const auto& a : o.attributes) attributes.push_back(const_cast<char*>(a.c_str()));
  attributes.push_back(nullptr);
  timeval t = left(deadline + kPastDeadline);
  LDAPMessage* raw = nullptr;
  // At most two entries: enough to tell one from several.
  const int rc = ldap_search_ext_s(ld, base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attributes.data(), 0,
                                   nullptr, nullptr, &t, 2, &raw);
  const Message result(raw);
  const int entries = raw != nullptr ? ldap_count_entries(ld, raw) : 0;
  if (entries > 1 || rc == LDAP_SIZELIMIT_EXCEEDED)
    throw Unavailable("more than one entry for " + printable(filter.c_str()) + " under " + printable(base.c_str()),
                      Failure::Ambiguous);
  if (rc == LDAP_REFERRAL) return {std::nullopt, referrals_of(ld, raw)};
  if (rc != LDAP_SUCCESS) throw Unavailable("search: " + words(ld, rc), failure_of(rc));
  if (entries == 0) return {};
  return {read_entry(ld, ldap_first_entry(ld, raw), o.attributes), {}};
}

// The failures of the servers tried, one after the other: the worst kind
// decides (an Ambiguous answer is final: another server would say the same).
class Attempts {
 public:
  void failed(const Unavailable& e) {
    if (e.failure() == Failure::Ambiguous) throw e;
    worst_ = tried_.empty() ? e.failure() : std::max(worst_, e.failure());
    tried_ += (tried_.empty() ? "" : "; ") + std::string(e.what());
  }
  [[noreturn]] void give_up() const {
    if (tried_.empty()) throw Unavailable("no time left to reach the directory", Failure::NoAnswer);
    throw Unavailable(tried_, worst_);
  }

 private:
  std::string tried_;
  Failure worst_ = Failure::NoAnswer;
};

constexpr int kReferralHops = 2;

// "ldaps://host:port" and the base of a referral, or nullopt for one that
// is no LDAP URL.
std::optional<std::pair<std::string, std::string>> referral_target(const std::string& url, const std::string& base) {
  LDAPURLDesc* d = nullptr;
  if (ldap_url_parse(url.c_str(), &d) != LDAP_URL_SUCCESS || d == nullptr) return std::nullopt;
  std::optional<std::pair<std::string, std::string>> out;
  const std::string scheme = d->lud_scheme != nullptr ? d->lud_scheme : "";
  if ((scheme == "ldap" || scheme == "ldaps") && d->lud_host != nullptr && *d->lud_host != '\0') {
    const std::string host = std::string(d->lud_host).find(':') != std::string::npos ? "[" + std::string(d->lud_host) + "]"
                                                                                       : std::string(d->lud_host);
    out.emplace(scheme + "://" + host + (d->lud_port > 0 ? ":" + std::to_string(d->lud_port) : ""),
                d->lud_dn != nullptr && *d->lud_dn != '\0' ? std::string(d->lud_dn) : base);
  }
  ldap_free_urldesc(d);
  return out;
}

// The entry under `base` at `uri`, following referrals (when configured)
// with the same rules: TLS verified with ca_file, our bind.
std::optional<Entry> ask(const std::string& uri, const std::string& base, const LdapOptions& o,
                         const std::string& filter, Clock::time_point deadline, int hops) {
  Found found;
  {
    const auto ld = open(uri, o, deadline);
    found = search(ld->get(), o, base, filter, deadline);
  }
  if (found.referrals.empty()) return std::move(found.entry);
  const std::string where = printable(found.referrals.front().c_str());
  if (!o.follow_referrals || hops == 0)
    throw Unavailable(printable(uri.c_str()) + ": " + printable(base.c_str()) + " is held by another server (" + where +
                          (o.follow_referrals ? "), and referrals lead on too far" : "): name it in uri and base, or set follow_referrals"),
                      Failure::Refused);
  Attempts attempts;
  for (const auto& url : found.referrals) {
    if (Clock::now() >= deadline) break;
    const auto target = referral_target(url, base);
    try {
      if (!target) throw Unavailable("a referral to '" + printable(url.c_str()) + "', not an LDAP server", Failure::Refused);
      return ask(target->first, target->second, o, filter, deadline, hops - 1);
    } catch (const Unavailable& e) {
      attempts.failed(e);
    }
  }
  attempts.give_up();
}

std::optional<Entry> find_here(const LdapOptions& options, const std::string& filter, Clock::time_point deadline) {
  Attempts attempts;
  for (const auto& uri : options.uris) {
    if (Clock::now() >= deadline) break;
    try {
      return ask(uri, options.base, options, filter, deadline, kReferralHops);
    } catch (const Unavailable& e) {
      attempts.failed(e);
    }
  }
  attempts.give_up();
}

// One lookup in a thread of its own. libldap resolves a server's name with
// getaddrinfo, which no timeout bounds, and its first use in a process
// resolves the host's own name too: the caller waits until the deadline,
// and a lookup still resolving then is left to end alone. The thread
// holds SIGPIPE back for its whole life: libldap writes with write(), and
// a server that has closed, or a socket the watchdog shut, would
// otherwise kill the host process (sshd, sudo) when it does not ignore
// the signal. A SIGPIPE meant for the thread ends with it.
class Lookup {
 public:
  Lookup(const LdapOptions& options, std::string filter, Clock::time_point deadline)
      : options_(options), filter_(std::move(filter)), deadline_(deadline) {}

  static std::optional<Entry> run(const std::shared_ptr<Lookup>& self) {
    try {
      std::thread([self] { self->work(); }).detach();
    } catch (const std::system_error& e) {
      throw Unavailable(std::string("cannot start the directory's lookup: ") + e.what(), Failure::Local);
    }
    std::unique_lock<std::mutex> hold(self->mutex_);
    // (A little past the deadline, for the lookup's own account of it.)
    if (!self->done_cv_.wait_until(hold, self->deadline_ + std::chrono::milliseconds(100), [&] { return self->done_; }))
      throw Unavailable("no answer within the directory's timeout (a server name that does not resolve in time?)",
                        Failure::NoAnswer);
    if (self->failure_) throw *self->failure_;
    return std::move(self->entry_);
  }

 private:
  void work() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    std::optional<Entry> entry;
    std::optional<Unavailable> failure;
    try {
      entry = find_here(options_, filter_, deadline_);
    } catch (const Unavailable& e) {
      failure = e;
    } catch (const std::exception& e) {
      failure.emplace(e.what(), Failure::Local);
    } catch (...) {
      failure.emplace("an unknown error in the directory's lookup", Failure::Local);
    }
    const std::lock_guard<std::mutex> hold(mutex_);
    entry_ = std::move(entry);
    failure_ = std::move(failure);
    done_ = true;
    done_cv_.notify_all();
  }

  const LdapOptions options_;
  const std::string filter_;
  const Clock::time_point deadline_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::optional<Entry> entry_;
  std::optional<Unavailable> failure_;
};

}  // namespace

std::optional<Entry> find_entry(const LdapOptions& options, const std::string& filter, Clock::time_point deadline) {
  return Lookup::run(std::make_shared<Lookup>(options, filter, deadline));
}

}  // namespace otp::directory
