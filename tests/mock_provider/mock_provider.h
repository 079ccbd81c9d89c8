// An OTP provider for tests: httplib's SSLServer on background threads,
// speaking the generic JSON API (generic_api.cc) and six real providers'
// dialects (dialects/), plus a control API under /mock/ (control_api.cc),
// with injectable faults.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dialects/dialect.h"
#include "mock_types.h"
#include "otp_engine.h"
#include "tls_observer.h"

namespace otp::mock {

class DialectSet;

class MockProvider {
 public:
  explicit MockProvider(MockOptions options);  // does not start
  ~MockProvider();
  MockProvider(const MockProvider&) = delete;
  MockProvider& operator=(const MockProvider&) = delete;

  // Binds, serves on background threads and returns the port. Throws
  // std::runtime_error (bad certificate, port taken, started twice).
  int start();
  // Idempotent. Releases hung and delayed handlers and closes idle
  // keep-alive connections, so it returns promptly.
  void stop();
  int port() const { return port_; }
  std::string base_url() const;  // "https://127.0.0.1:PORT"

  // State control; thread-safe, also reachable under /mock/.
  void configure(const MockSettings& s);  // throws std::invalid_argument
  MockSettings settings() const;
  void set_fault(const Fault& f);
  void clear_fault();
  Fault fault() const;
  void set_next_code(const std::string& code);
  void expire_codes();
  // Forgets transactions, lockouts, rate limits, the outbox, the forced next
  // code, recorded requests and the TLS counters; keeps settings and fault.
  void reset();
  std::vector<Delivery> outbox() const;
  std::optional<std::string> last_code_for(const std::string& to) const;
  std::vector<RecordedRequest> requests() const;
  // The provider dialects (Stytch, Descope, Twilio Verify, privacyIDEA,
  // 1Kosmos BlockID, Baanx), all served from construction on; thread-safe,
  // also under /mock/dialects. set_next_code(), expire_codes(), reset(),
  // faults, the outbox and request recording cover them too.
  void configure_dialects(const Dialects& d);  // throws std::invalid_argument
  Dialects dialects() const;
  // The BlockID community public key: base64 of the 64-byte X‖Y.
  std::string community_public_key() const;

  // Time spent answering provider requests (delays included) since
  // start/reset: what a benchmark subtracts to get the client's own time.
  long long provider_microseconds() const { return provider_us_.load(); }
  int handshakes() const;   // TLS handshakes completed since start/reset
  // Connections that began a TLS handshake since start/reset: every accepted
  // TCP connection, including ones whose handshake then failed.
  int connections() const;

  // For extra provider dialects: register routes on server() before start()
  // (start() adds catch-all routes that would shadow later ones), wrapping
  // their handlers with wrap() so they are recorded and faulted like the
  // built-in /v1 routes. Requests to unknown paths outside /mock/ are
  // recorded, faultable, and answered 404.
  httplib::Server& server() { return *server_; }
  httplib::Server::Handler wrap(httplib::Server::Handler handler);

 private:
  bool setup_tls(SSL_CTX& ctx);
  void add_generic_routes();  // generic_api.cc
  void add_control_routes();  // control_api.cc
  void add_dialect_routes();  // mock_dialects.cc
  void add_dialect_control_routes();
  void run_dialect(const DialectHandler& handler, const httplib::Request& req,
                   httplib::Response& res);
  static void respond(httplib::Response& res, const Reply& reply);  // generic_api.cc
  static void print_code(const Delivery& d);
  void set_fallback_handlers();
  void add_catch_all_routes();
  void serve();
  // Records the request and applies the current fault; false if the fault
  // has produced the whole response.
  bool before_handler(const httplib::Request& req, httplib::Response& res);
  std::optional<Fault> take_fault(const std::string& path);
  void wait_for_hang_release(std::unique_lock<std::mutex>& lock);
  void handle_send(const httplib::Request& req, httplib::Response& res);
  void handle_verify(const httplib::Request& req, httplib::Response& res);

  const MockOptions options_;
  TlsObserver tls_;  // before server_: the SSL_CTX points at it
  // Before server_, whose handlers point into it. Guarded by mutex_.
  std::unique_ptr<DialectSet> dialect_set_;
  std::string tls_error_;
  std::unique_ptr<httplib::SSLServer> server_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  std::atomic<long long> provider_us_{0};

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;  // fault changes and stop() release waiters
  bool started_ = false;
  bool stopping_ = false;
  unsigned long fault_generation_ = 0;
  Fault fault_;
  OtpEngine engine_;
  Dialects dialects_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace otp::mock
