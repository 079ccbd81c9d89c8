#include "mock_provider.h"

#include <pthread.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>

#include "dialects/dialect_set.h"
#include "mock_json.h"

namespace otp::mock {
namespace {

constexpr std::size_t kKeepAliveMaxCount = 100000;

std::string openssl_errors() {
  std::string out;
  unsigned long err = 0;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out;
}

// Replaces httplib's default socket options, whose SO_REUSEPORT would let
// two mocks silently share a fixed port; SO_REUSEADDR alone still allows a
// quick restart on the same port.
void set_reuse_addr(int fd) {
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

namespace {

// A worker pool that never holds more connections than it has workers:
// beyond that the acceptor serves the connection itself, and accepts
// nothing until it is done; the rest wait in the kernel's backlog.
class BoundedPool final : public httplib::TaskQueue {
 public:
  explicit BoundedPool(std::size_t n) : pool_(n), limit_(n) {}
  void enqueue(std::function<void()> fn) override {
    if (pending_.fetch_add(1) >= limit_) {
      fn();
      --pending_;
      return;
    }
    pool_.enqueue([this, fn = std::move(fn)] {
      fn();
      --pending_;
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  std::size_t limit_;
  std::atomic<std::size_t> pending_{0};
};

}  // namespace

MockProvider::MockProvider(MockOptions options)
    : options_(std::move(options)),
      dialect_set_(std::make_unique<DialectSet>(options_.blockid_private_key)),
      dialects_(options_.dialects) {
  validate(dialects_);
  server_ = std::make_unique<httplib::SSLServer>([this](SSL_CTX& ctx) { return setup_tls(ctx); });
  // Without TCP_NODELAY the second of two small TLS records waits for the
  // client's delayed ACK: 40 ms per request.
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_max_count(kKeepAliveMaxCount);
  server_->set_keep_alive_timeout(std::max(options_.keep_alive_seconds, 1));
  const auto threads = static_cast<std::size_t>(std::max(options_.threads, 1));
  if (options_.bounded_queue) server_->new_task_queue = [threads] { return new BoundedPool(threads); };
  else server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  if (options_.io_timeout_seconds > 0) {
    server_->set_read_timeout(options_.io_timeout_seconds, 0);
    server_->set_write_timeout(options_.io_timeout_seconds, 0);
  }
  server_->set_socket_options([this](socket_t fd) {
    set_reuse_addr(fd);
    listen_fd_ = fd;
  });
  add_generic_routes();
  add_dialect_routes();
  if (options_.control_api) {
    add_control_routes();
    add_dialect_control_routes();
  }
  set_fallback_handlers();
}

MockProvider::~MockProvider() { stop(); }

bool MockProvider::setup_tls(SSL_CTX& ctx) {
  tls_.attach(&ctx);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION);
  if (options_.min_tls_version != 0) {
    // OpenSSL 3 refuses TLS 1.0/1.1 at its default security level (their
    // handshake needs SHA-1); an old-TLS test server must allow them.
    if (options_.min_tls_version < TLS1_2_VERSION) SSL_CTX_set_security_level(&ctx, 0);
    if (SSL_CTX_set_min_proto_version(&ctx, options_.min_tls_version) != 1 ||
        SSL_CTX_set_max_proto_version(&ctx, options_.min_tls_version) != 1) {
      tls_error_ = "unsupported TLS version " + std::to_string(options_.min_tls_version);
      return false;
    }
  }
  if (!options_.cipher_list.empty()) {
    SSL_CTX_set_security_level(&ctx, 0);
    if (SSL_CTX_set_max_proto_version(&ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(&ctx, options_.cipher_list.c_str()) != 1) {
      tls_error_ = "unsupported cipher list " + options_.cipher_list;
      return false;
    }
  }
  if (SSL_CTX_use_certificate_chain_file(&ctx, options_.cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(&ctx, options_.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(&ctx) != 1) {
    tls_error_ = openssl_errors();
    return false;
  }
  return true;
}

void MockProvider::set_fallback_handlers() {
  // Every answer is JSON, even httplib's own 404s and 400s.
  server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    Json::Value v(Json::objectValue);
    const bool missing = res.status == 404;
    v["error"] = missing ? "not_found" : "http_" + std::to_string(res.status);
    v["message"] = missing ? "No such endpoint" : "Request failed";
    res.set_content(to_text(v), "application/json");
  });
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        Json::Value v(Json::objectValue);
        v["error"] = "internal";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          v["message"] = e.what();
        } catch (...) {
          v["message"] = "unknown exception";
        }
        res.status = 500;
        res.set_content(to_text(v), "application/json");
      });
}

// Registered last (httplib tries routes in order), so that requests to
// paths no route serves are still recorded and faulted like provider calls.
void MockProvider::add_catch_all_routes() {
  const std::string any_but_control = "/(?!mock/).*";
  const auto not_found = wrap([](const httplib::Request&, httplib::Response& res) {
    res.status = 404;  // the error handler supplies the JSON body
  });
  server_->Get(any_but_control, not_found);
  server_->Post(any_but_control, not_found);
  server_->Put(any_but_control, not_found);
  server_->Patch(any_but_control, not_found);
  server_->Delete(any_but_control, not_found);
}

int MockProvider::start() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (started_) throw std::runtime_error("otp-mock: start() called twice");
    started_ = true;
  }
  if (!server_->is_valid())
    throw std::runtime_error("otp-mock: cannot use certificate " + options_.cert_file +
                             " / key " + options_.key_file + ": " + tls_error_);
  add_catch_all_routes();
  port_ = options_.port == 0 ? server_->bind_to_any_port(options_.host)
          : server_->bind_to_port(options_.host, options_.port) ? options_.port
                                                                : -1;
  if (port_ <= 0)
    throw std::runtime_error("otp-mock: cannot listen on " + options_.host + ":" +
                             std::to_string(options_.port));
  // httplib listens with a backlog of 5; 200 clients connecting at once
  // would overflow it and wait out a 1 s SYN retransmission.
  if (listen_fd_ >= 0) ::listen(listen_fd_, SOMAXCONN);
  thread_ = std::thread([this] { serve(); });
  // stop() is a no-op until httplib says it is running: wait for that.
  while (!server_->is_running() && !listen_returned_)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (listen_returned_) {
    thread_.join();
    throw std::runtime_error("otp-mock: the server failed to start");
  }
  return port_;
}

void MockProvider::serve() {
  // Handlers write to sockets that clients may have closed. Blocking SIGPIPE
  // here, where httplib creates its worker threads (they inherit the mask),
  // turns that into EPIPE without changing the whole process's disposition.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  server_->listen_after_bind();
  listen_returned_ = true;
}

void MockProvider::stop() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();  // hung and delayed handlers give up now
  if (!thread_.joinable()) return;
  server_->stop();
  // httplib would otherwise keep serving idle keep-alive connections until
  // their timeout (5 s) before its worker threads can be joined.
  tls_.shutdown_connections(port_);
  thread_.join();
}

std::string MockProvider::base_url() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return "https://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" +
         std::to_string(port_);
}

}  // namespace otp::mock
