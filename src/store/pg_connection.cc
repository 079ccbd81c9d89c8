#include "store/pg_connection.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "base/text.h"

namespace otp::store {
namespace {

// Every variable libpq 15 reads (libpq-envars): connection defaults, files,
// and startup parameters no keyword overrides (PGOPTIONS, PGTZ, PGDATESTYLE,
// PGGEQO, PGSERVICE).
const char* const kLibpqVariables[] = {
    "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGCHANNELBINDING",
    "PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR", "PGOPTIONS", "PGAPPNAME", "PGSSLMODE", "PGREQUIRESSL",
    "PGSSLCOMPRESSION", "PGSSLCERT", "PGSSLKEY", "PGSSLROOTCERT", "PGSSLCRL", "PGSSLCRLDIR", "PGSSLSNI",
    "PGREQUIREPEER", "PGSSLMINPROTOCOLVERSION", "PGSSLMAXPROTOCOLVERSION", "PGGSSENCMODE", "PGKRBSRVNAME",
    "PGGSSLIB", "PGCONNECT_TIMEOUT", "PGCLIENTENCODING", "PGTARGETSESSIONATTRS", "PGDATESTYLE", "PGTZ", "PGGEQO",
    "PGLOCALEDIR"};

// A path that never exists (ENOTDIR, which libpq treats as "no such file"
// without a warning): what a file we do not use is set to, so that libpq
// does not look in root's home directory for one.
constexpr char kNoFile[] = "/dev/null/pam_otp-none";

// Rounded up: a wait for what is left ends at or after the deadline, never
// a little before it.
long long millis_left(PgClock::time_point deadline) {
  return std::chrono::ceil<std::chrono::milliseconds>(deadline - PgClock::now()).count();
}

// getaddrinfo has no timeout: it runs in a thread of its own, which may
// outlive the login when the resolver does not answer (the plugin is never
// unloaded, so its code stays mapped).
std::vector<std::string> resolve(const std::string& name, PgClock::time_point deadline) {
  struct State {
    std::mutex m;
    std::condition_variable done_cv;
    bool done = false;
    std::vector<std::string> addresses;
    std::string error;
  };
  auto state = std::make_shared<State>();
  try {
    std::thread([state, name] {
      addrinfo hints{};
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_ADDRCONFIG;
      addrinfo* found = nullptr;
      const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
      std::vector<std::string> addresses;
      for (addrinfo* a = found; rc == 0 && a != nullptr; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN] = "";
        const void* where = a->ai_family == AF_INET6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr)
                                                     : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
        if (::inet_ntop(a->ai_family, where, text, sizeof text) != nullptr) addresses.emplace_back(text);
      }
      if (found != nullptr) ::freeaddrinfo(found);
      const std::lock_guard lock(state->m);
      state->addresses = std::move(addresses);
      if (rc != 0) state->error = ::gai_strerror(rc);
      state->done = true;
      state->done_cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    throw Error("cannot resolve " + name + ": no thread for it (" + e.what() + ")");
  }
  std::unique_lock lock(state->m);
  if (!state->done_cv.wait_until(lock, deadline, [&] { return state->done; }))
    throw Error("cannot resolve " + name + ": no answer within the store's budget (store_timeout)");
  if (!state->error.empty()) throw Error("cannot resolve " + name + ": " + state->error);
  if (state->addresses.empty()) throw Error("cannot resolve " + name + ": no address");
  return state->addresses;
}

bool numeric_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// What libpq says, on one line, at most 300 bytes.
std::string libpq_words(const PGconn* conn) {
  std::string words = conn == nullptr ? "out of memory" : PQerrorMessage(conn);
  while (!words.empty() && (words.back() == '\n' || words.back() == ' ')) words.pop_back();
  for (char& c : words)
    if (c == '\n') c = ' ';
  return sanitize(words, 300);
}

// An encrypted client key is never unlocked by asking: OpenSSL's default
// would prompt on the terminal (su's caller's), outside any deadline.
int refuse_key_passphrase(char* buf, int size, PGconn*) {
  if (size > 0) buf[0] = '\0';
  return 0;
}

// Notices (a WARNING from a function) go nowhere: libpq's default writes
// them to stderr, which is sshd's or the caller's, not ours.
void ignore_notice(void*, const PGresult*) {}

struct Keywords {
  std::vector<std::string> keys, values;
  void add(const char* key, std::string value) {
    keys.emplace_back(key);
    values.push_back(std::move(value));
  }
};

Keywords keywords_for(const PgConnectOptions& o, const PgHost& host, const std::string& address,
                      PgClock::time_point deadline) {
  const PgTarget& t = o.target;
  Keywords k;
  k.add("host", host.name);
  if (!address.empty()) k.add("hostaddr", address);
  k.add("port", std::to_string(host.port));
  k.add("dbname", t.dbname);
  k.add("user", t.user);
  k.add("passfile", kNoFile);
  k.add("sslmode", t.sslmode);
  k.add("sslrootcert", t.sslrootcert.empty() ? kNoFile : t.sslrootcert);
  k.add("sslcert", t.sslcert.empty() ? kNoFile : t.sslcert);
  k.add("sslkey", t.sslkey.empty() ? kNoFile : t.sslkey);
  k.add("sslcrl", t.sslcrl.empty() ? kNoFile : t.sslcrl);
  k.add("sslcrldir", kNoFile);
  k.add("gssencmode", "disable");
  // Channel binding needs TLS and SCRAM: required by default for a
  // password over TLS; where there is no TLS (a socket, loopback) or no
  // password (a client certificate), libpq's "prefer".
  const bool tls = !host.socket_dir() && t.sslmode != "disable" && t.sslmode != "allow" && t.sslmode != "prefer";
  k.add("channel_binding", !t.channel_binding.empty()                ? t.channel_binding
                           : tls && !t.client_certificate() ? "require"
                                                            : "prefer");
  k.add("application_name", "pam_otp");
  k.add("client_encoding", "UTF8");
  k.add("target_session_attrs", t.hosts.size() > 1 ? "read-write" : "any");
  k.add("keepalives", "1");
  k.add("keepalives_idle", "5");
  k.add("keepalives_interval", "2");
  k.add("keepalives_count", "3");
  k.add("tcp_user_timeout", std::to_string(std::max<long long>(millis_left(deadline), 1)));
  if (host.socket_dir()) k.add("requirepeer", t.requirepeer);
  return k;
}

std::string place(const PgHost& host, const std::string& address) {
  if (host.socket_dir()) return "the socket in " + host.name;
  return host.name + (address.empty() || address == host.name ? "" : " (" + address + ")") + " port " +
         std::to_string(host.port);
}

}  // namespace

std::string pg_environment_problem() {
  for (const char* name : kLibpqVariables)
    if (std::getenv(name) != nullptr)
      return std::string("the environment sets ") + name + ", which libpq would obey";
  // And whatever this libpq reads besides (a newer one reads more).
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconndefaults(), &PQconninfoFree);
  for (const PQconninfoOption* o = options.get(); o != nullptr && o->keyword != nullptr; ++o)
    if (o->envvar != nullptr && std::getenv(o->envvar) != nullptr)
      return std::string("the environment sets ") + o->envvar + ", which libpq would obey";
  return "";
}

PgConnection::PgConnection(const PgConnectOptions& options, PgClock::time_point deadline) {
  if (const std::string problem = pg_environment_problem(); !problem.empty()) throw Error(problem);
  static std::once_flag hook_set;
  std::call_once(hook_set, [] { PQsetSSLKeyPassHook_OpenSSL(refuse_key_passphrase); });
  std::string tried;
  for (const PgHost& host : options.target.hosts) {
    std::vector<std::string> addresses{""};
    try {
      if (!host.socket_dir()) addresses = numeric_address(host.name) ? std::vector{host.name} : resolve(host.name, deadline);
    } catch (const Error& e) {
      tried += (tried.empty() ? "" : "; ") + std::string(e.what());
      continue;
    }
    for (const std::string& address : addresses) {
      if (millis_left(deadline) <= 0) break;
      where_ = place(host, address);
      Keywords k = keywords_for(options, host, address, deadline);
      if (!options.password.empty()) k.add("password", std::string(options.password.reveal()));
      std::vector<const char*> keys, values;
      for (std::size_t i = 0; i < k.keys.size(); ++i) {
        keys.push_back(k.keys[i].c_str());
        values.push_back(k.values[i].c_str());
      }
      keys.push_back(nullptr);
      values.push_back(nullptr);
      conn_ = PQconnectStartParams(keys.data(), values.data(), 0);
      if (!k.values.empty() && k.keys.back() == "password") wipe(k.values.back());
      try {
        if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) throw Error(libpq_words(conn_));
        PQsetNoticeReceiver(conn_, ignore_notice, nullptr);
        for (PostgresPollingStatusType s = PGRES_POLLING_WRITING; s != PGRES_POLLING_OK;) {
          if (s == PGRES_POLLING_FAILED) throw Error(libpq_words(conn_));
          wait(s == PGRES_POLLING_WRITING, deadline, "connecting");
          s = PQconnectPoll(conn_);
        }
        if (PQsetnonblocking(conn_, 1) != 0) throw Error(libpq_words(conn_));
        return;
      } catch (const Error& e) {
        close();
        tried += (tried.empty() ? "" : "; ") + where_ + ": " + e.what();
      } catch (...) {
        close();
        throw;
      }
    }
    if (millis_left(deadline) <= 0) break;
  }
  if (millis_left(deadline) <= 0 && tried.find("budget") == std::string::npos)
    tried += std::string(tried.empty() ? "" : "; ") + "the store's budget (store_timeout) ran out";
  throw Error("cannot connect to " + store::describe(options.target) + ": " + tried);
}

PgConnection::~PgConnection() { close(); }

void PgConnection::close() noexcept {
  if (conn_ == nullptr) return;
  // Nonblocking, so that the goodbye cannot wait on a server that stopped
  // reading (PQfinish sends it and closes).
  PQsetnonblocking(conn_, 1);
  PQfinish(conn_);
  conn_ = nullptr;
}

void PgConnection::wait(bool for_write, PgClock::time_point deadline, const char* doing) {
  for (;;) {
    const long long left = millis_left(deadline);
    if (left <= 0) throw Error(std::string(doing) + ": no answer within the store's budget (store_timeout)");
    pollfd p{PQsocket(conn_), static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    if (p.fd < 0) throw Error(std::string(doing) + ": " + libpq_words(conn_));
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60000)));
    if (n > 0) return;
    if (n < 0 && errno != EINTR) throw Error(std::string(doing) + ": poll failed");
  }
}

std::vector<PgRow> PgConnection::run(const std::string& sql, const std::vector<std::string>& params,
                                     PgClock::time_point deadline) {
  if (conn_ == nullptr) throw Error("the connection to the shared store was closed after an earlier failure");
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  bool sent = false;
  try {
    // Without parameters, the simple protocol, which takes several
    // statements (pam-otp state init's schema).
    if ((params.empty() ? PQsendQuery(conn_, sql.c_str())
                        : PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                            nullptr, nullptr, 0)) != 1)
      throw Error(where_ + ": " + libpq_words(conn_));
    sent = true;
    for (int rc; (rc = PQflush(conn_)) != 0;) {
      if (rc < 0) throw Error(where_ + ": " + libpq_words(conn_));
      wait(true, deadline, "sending to the shared store");
      if (PQconsumeInput(conn_) != 1) throw Error(where_ + ": " + libpq_words(conn_));
    }
    std::vector<PgRow> rows;
    std::optional<PgError> failure;
    for (;;) {
      while (PQisBusy(conn_) != 0) {
        wait(false, deadline, "waiting for the shared store");
        if (PQconsumeInput(conn_) != 1) throw Error(where_ + ": " + libpq_words(conn_));
      }
      PGresult* r = PQgetResult(conn_);
      if (r == nullptr) break;
      const std::unique_ptr<PGresult, decltype(&PQclear)> result(r, &PQclear);
      const ExecStatusType status = PQresultStatus(r);
      if (status == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples(r); ++i) {
          PgRow row;
          for (int j = 0; j < PQnfields(r); ++j)
            row.push_back(PQgetisnull(r, i, j) != 0 ? std::nullopt
                                                    : std::optional<std::string>(std::string(PQgetvalue(r, i, j),
                                                                                             PQgetlength(r, i, j))));
          rows.push_back(std::move(row));
        }
      } else if (status != PGRES_COMMAND_OK && !failure) {
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        std::string words = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) != nullptr
                                ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                                : PQresultErrorMessage(r);
        failure.emplace(where_ + ": " + sanitize(words, 300), state != nullptr ? state : "");
      }
    }
    if (failure) throw *failure;
    return rows;
  } catch (const PgError&) {
    throw;  // the server answered: the connection is fine
  } catch (const Error& e) {
    close();
    if (sent) throw MayHaveRun(e.what());
    throw;
  }
}

std::string PgConnection::quote_identifier(const std::string& name) const {
  if (conn_ == nullptr) throw Error("the connection to the shared store is closed");
  char* quoted = PQescapeIdentifier(conn_, name.c_str(), name.size());
  if (quoted == nullptr) throw Error("cannot quote \"" + sanitize(name, 60) + "\": " + libpq_words(conn_));
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

std::string PgConnection::describe() const {
  if (conn_ == nullptr) return "closed";
  std::string out = where_;
  if (PQsslInUse(conn_) != 0) {
    const char* protocol = PQsslAttribute(conn_, "protocol");
    out += ", TLS " + std::string(protocol != nullptr ? protocol : "?");
  } else {
    out += ", no TLS";
  }
  out += PQconnectionUsedPassword(conn_) != 0 ? ", password" : ", no password";
  return out;
}

}  // namespace otp::store
