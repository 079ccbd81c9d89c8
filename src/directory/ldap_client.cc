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

// A failed operation's kind: an LDAP result code is the server's answer
// (over TLS verified before any operation); libldap's own codes (negative)
// mean the answer never came.
Failure failure_of(int rc) { return rc > 0 ? Failure::Answered : Failure::NoAnswer; }

void set(LDAP* ld, int option, const void* value, const char* what) {
  if (ldap_set_option(ld, option, value) != LDAP_OPT_SUCCESS)
    throw Unavailable(std::string("cannot set ") + what, Failure::Local);
}

// The synchronous calls' limit: what is left of the deadline.
void limit(LDAP* ld, Clock::time_point deadline) {
  const timeval t = left(deadline);
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
  // Has a TCP connection been made (libldap's connect callback), and has the deadline shut it?
  bool connected() {
    const std::lock_guard<std::mutex> hold(mutex_);
    return connected_;
  }
  bool expired() {
    const std::lock_guard<std::mutex> hold(mutex_);
    return expired_ || Clock::now() >= deadline_;
  }

  LDAP* ld_ = nullptr;

 private:
  static int added(LDAP*, Sockbuf* sb, LDAPURLDesc*, sockaddr*, ldap_conncb* cb) {
    ber_socket_t fd = -1;
    if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) != 1 || fd < 0) return -1;
    auto* self = static_cast<Connection*>(cb->lc_arg);
    const std::lock_guard<std::mutex> hold(self->mutex_);
    if (self->expired_) ::shutdown(fd, SHUT_RDWR);
    self->connected_ = true;
    self->sockets_.push_back(fd);
    return 0;
  }
  static void removed(LDAP*, Sockbuf* sb, ldap_conncb* cb) {
    ber_socket_t fd = -1;
    if (sb == nullptr || ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) != 1) return;
    auto* self = static_cast<Connection*>(cb->lc_arg);
    const std::lock_guard<std::mutex> hold(self->mutex_);
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
  set(raw, LDAP_OPT_REFERRALS, o.follow_referrals ? LDAP_OPT_ON : LDAP_OPT_OFF, "referrals");
  set(raw, LDAP_OPT_X_TLS_REQUIRE_CERT, &hard, "TLS verification");
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
                      rc == LDAP_TIMEOUT || ld->expired() || !ld->connected() ? Failure::NoAnswer : Failure::Untrusted);
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

std::optional<Entry> search(LDAP* ld, const LdapOptions& o, const std::string& filter, Clock::time_point deadline) {
  std::vector<char*> attributes;
  for (const auto& a : o.attributes) attributes.push_back(const_cast<char*>(a.c_str()));
  attributes.push_back(nullptr);
  timeval t = left(deadline);
  LDAPMessage* raw = nullptr;
  // At most two entries: enough to tell one from several.
  const int rc = ldap_search_ext_s(ld, o.base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attributes.data(), 0,
                                   nullptr, nullptr, &t, 2, &raw);
  const Message result(raw);
  const int entries = raw != nullptr ? ldap_count_entries(ld, raw) : 0;
  if (entries > 1 || rc == LDAP_SIZELIMIT_EXCEEDED)
    throw Unavailable("more than one entry for " + printable(filter.c_str()) + " under " + printable(o.base.c_str()),
                      Failure::Ambiguous);
  if (rc != LDAP_SUCCESS) throw Unavailable("search: " + words(ld, rc), failure_of(rc));
  // A referral not followed could hide the entry: the answer is not "none".
  if (raw != nullptr && ldap_count_references(ld, raw) > 0)
    throw Unavailable("the directory referred the search elsewhere (referrals are not followed)", Failure::Answered);
  if (entries == 0) return std::nullopt;
  return read_entry(ld, ldap_first_entry(ld, raw), o.attributes);
}

// SIGPIPE held back in this thread while libldap writes (it writes with
// write(), and a server that has closed, or a socket the watchdog shut,
// would otherwise kill the host process, sshd or sudo, when it does not
// ignore the signal); one that came meanwhile is taken, not left pending.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    already_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;
  ~NoSigpipe() {
    if (!already_pending_) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      const timespec now{0, 0};
      while (sigtimedwait(&pipe, nullptr, &now) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_{};
  bool already_pending_ = false;
};

}  // namespace

std::optional<Entry> find_entry(const LdapOptions& options, const std::string& filter, Clock::time_point deadline) {
  const NoSigpipe quiet;
  std::string tried;
  Failure worst = Failure::NoAnswer;
  for (const auto& uri : options.uris) {
    if (Clock::now() >= deadline) break;
    try {
      const auto ld = open(uri, options, deadline);
      return search(ld->get(), options, filter, deadline);
    } catch (const Unavailable& e) {
      // Two entries are the data's fault: another server would say the same.
      if (e.failure() == Failure::Ambiguous) throw;
      worst = tried.empty() ? e.failure() : std::max(worst, e.failure());
      tried += (tried.empty() ? "" : "; ") + std::string(e.what());
    }
  }
  if (tried.empty()) throw Unavailable("no time left to reach the directory", Failure::NoAnswer);
  throw Unavailable(tried, worst);
}

}  // namespace otp::directory
