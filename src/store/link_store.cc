#include "store/link_store.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>

#include "base/json.h"
#include "store/helper_protocol.h"

namespace otp::store {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::size_t kMaxLine = 1 << 20;

class LinkStore final : public Store {
 public:
  LinkStore(std::unique_ptr<Peer> peer, const LinkOptions& options) : peer_(std::move(peer)), options_(options) {}
  LinkStore(const LinkStore&) = delete;
  LinkStore& operator=(const LinkStore&) = delete;
  ~LinkStore() override { stop(false); }

  // Opens the link and, unless the hello goes with the first call, waits
  // for its first answer: the store is open (or the peer's words why not,
  // as Error).
  void start() {
    fd_ = peer_->open();
    ready_ = false;
    buffer_.clear();
    if (options_.hello_with_first_call) return;
    const auto deadline = steady_clock::now() + options_.per_call;
    send_line(peer_->hello(), deadline);
    await_ready(deadline);
  }

  Secret hash_key() override {
    Json::Value answer = call(protocol::hash_key_request());
    const json::WipeOnExit wipe(answer);
    return protocol::read_hash_key(protocol::result_of(answer));
  }
  void set_recovery_codes(const std::string& user, const std::string& salt, const std::vector<std::string>& hashes,
                          std::int64_t now) override {
    protocol::result_of(call(protocol::set_recovery_codes_request(user, salt, hashes, now)));
  }
  std::optional<RecoveryBatch> recovery_codes(const std::string& user) override {
    return protocol::read_recovery_batch(protocol::result_of(call(protocol::recovery_codes_request(user))));
  }
  bool use_recovery_code(const std::string& user, std::int64_t id, const std::string& hash, std::int64_t now,
                         const std::string& service) override {
    return protocol::read_bool(
        protocol::result_of(call(protocol::use_recovery_code_request(user, id, hash, now, service))));
  }
  void remember(const Remembered& login) override { protocol::result_of(call(protocol::remember_request(login))); }
  bool is_remembered(const std::string& user, const std::string& key_hash, std::int64_t now,
                     std::int64_t not_before) override {
    return protocol::read_bool(
        protocol::result_of(call(protocol::is_remembered_request(user, key_hash, now, not_before))));
  }
  std::vector<Remembered> remembered(const std::string& user, std::int64_t now) override {
    return protocol::read_remembered(protocol::result_of(call(protocol::remembered_request(user, now))));
  }
  std::optional<LimitReached> take(const std::vector<Limit>& limits, std::int64_t now) override {
    return protocol::read_limit_reached(protocol::result_of(call(protocol::take_request(limits, now))));
  }
  // Sends it now; take() reads the answer, or throws what sending it threw
  // (as a take() that sent it itself would have: not tried twice).
  void take_ahead(const std::vector<Limit>& limits, std::int64_t now) override {
    const Json::Value request = protocol::take_request(limits, now);
    ahead_ = Ahead{{}, nullptr, json::to_string(request)};
    try {
      ahead_->sent = send_request(request);
    } catch (const std::exception&) {
      ahead_->error = std::current_exception();
    }
  }
  int count(const std::string& kind, const std::string& key, std::int64_t since) override {
    return protocol::read_int(protocol::result_of(call(protocol::count_request(kind, key, since))));
  }
  void forget(const std::string& user) override { protocol::result_of(call(protocol::forget_request(user))); }
  void forget_rhost(const std::string& rhost_hash) override {
    protocol::result_of(call(protocol::forget_rhost_request(rhost_hash)));
  }

 private:
  // A request sent, whose answers are still to be read.
  struct Sent {
    bool greet = false;  // the hello went with it
  };
  struct Ahead {
    Sent sent;
    std::exception_ptr error;  // what sending it threw
    std::string line;          // the request, to check the call that reads it
  };

  Json::Value call(const Json::Value& request) {
    if (ahead_) {
      const Ahead ahead = std::move(*ahead_);
      ahead_.reset();
      // (It ran, or will: reading another call's answer would be wrong.)
      if (ahead.line != json::to_string(request)) throw Error(peer_->name() + ": a call other than the one sent ahead");
      if (ahead.error) std::rethrow_exception(ahead.error);
      return read_result(ahead.sent);
    }
    return read_result(send_request(request));
  }

  Sent send_request(const Json::Value& request) {
    if (options_.connection_per_call) {
      if (fd_ < 0) start();  // (the first call's is open()'s)
    } else {
      if (fd_ < 0) throw Error(peer_->name() + " is gone (" + why_gone_ + ")");
      // A peer that ended the link while idle (a login left at its prompt
      // past the peer's idle time) took nothing of this request: a new link.
      if (ready_ && ended_while_idle()) {
        stop(false);
        start();
      }
    }
    const auto deadline = steady_clock::now() + options_.per_call;
    const bool greet = !ready_;  // (the hello with this call)
    send_line((greet ? peer_->hello() : "") + json::to_string(request) + "\n", deadline);
    // Nothing more on this connection: the peer answers and hangs up, in
    // one wake-up.
    if (options_.connection_per_call) ::shutdown(fd_, SHUT_WR);
    return {greet};
  }

  Json::Value read_result(Sent sent) {
    const auto deadline = steady_clock::now() + options_.per_call;
    if (sent.greet) {
      // The request has gone: from here, a failure to hear the first answer
      // leaves its fate unknown (a plain Error, never "not run"); only the
      // peer's own refusal in that answer says nothing of it ran.
      Json::Value first;
      try {
        first = read_answer(deadline);
      } catch (const PeerUnavailable& e) {
        throw Error(e.what());
      }
      try {
        peer_->check_ready(protocol::result_of(first));
      } catch (const std::exception& e) {  // another file, or its words: it cannot open it
        stop(false);
        throw PeerUnavailable(e.what());
      }
      ready_ = true;
    }
    Json::Value answer = read_answer(deadline);
    if (options_.connection_per_call) {
      stop(false);
      ready_ = false;
    }
    return answer;
  }

  void send_line(const std::string& line, steady_clock::time_point deadline) {
    for (std::size_t sent = 0; sent < line.size();) {
      // (A new connection takes a login's lines at once: waiting only
      // when it is full saves a system call on each.)
      const ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        wait_for(POLLOUT, deadline);
        continue;
      }
      if (n <= 0) give_up(std::string("cannot write to it: ") + std::strerror(errno));
      sent += static_cast<std::size_t>(n);
    }
  }

  void await_ready(steady_clock::time_point deadline) {
    const Json::Value first = read_answer(deadline);
    peer_->check_ready(protocol::result_of(first));
    ready_ = true;
  }

  Json::Value read_answer(steady_clock::time_point deadline) {
    for (;;) {
      if (const auto end = buffer_.find('\n'); end != std::string::npos) {
        auto answer = json::parse(std::string_view(buffer_).substr(0, end));
        wipe_bytes(buffer_.data(), end + 1);  // (the hash key passes through here)
        buffer_.erase(0, end + 1);
        if (!answer) give_up("it answered something that is not JSON");
        return std::move(*answer);
      }
      if (buffer_.size() > kMaxLine) give_up("its answer is too long");
      wait_for(POLLIN, deadline);
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) give_up(n == 0 ? "it ended" : std::string("cannot read from it: ") + std::strerror(errno));
      buffer_.append(chunk, static_cast<std::size_t>(n));
      wipe_bytes(chunk, static_cast<std::size_t>(n));
    }
  }

  // Waits until the socket is ready for `events`, or gives the peer up at
  // the deadline (after a last look: this process may have been stopped
  // while the answer arrived).
  void wait_for(short events, steady_clock::time_point deadline) {
    for (;;) {
      const auto left = std::max<long>(0, std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count());
      pollfd p{fd_, events, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(left));
      if (rc > 0) return;
      if (rc < 0 && errno != EINTR) give_up(std::string("poll: ") + std::strerror(errno));
      if (rc == 0 && left == 0)
        give_up("it did not answer within " + std::to_string(options_.per_call.count()) + " ms");
    }
  }

  // Has the peer closed its end with no request pending?
  bool ended_while_idle() const {
    if (!buffer_.empty()) return false;
    pollfd p{fd_, POLLIN, 0};
    char byte;
    return ::poll(&p, 1, 0) > 0 && ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }

  [[noreturn]] void give_up(const std::string& why) {
    why_gone_ = why;
    const std::string words = stop(true);
    // Until it has answered once it has not shown it is what it claims.
    if (!ready_) throw PeerUnavailable(peer_->name() + " did not start: " + why + words);
    throw Error(peer_->name() + ": " + why + words);
  }

  std::string stop(bool kill) {
    if (fd_ < 0) return "";
    ::close(fd_);
    fd_ = -1;
    return peer_->close(kill);
  }

  std::unique_ptr<Peer> peer_;
  LinkOptions options_;
  int fd_ = -1;
  std::string buffer_;
  std::string why_gone_;
  bool ready_ = false;
  std::optional<Ahead> ahead_;
};

}  // namespace

std::unique_ptr<Store> open_link_store(std::unique_ptr<Peer> peer, const LinkOptions& options) {
  auto store = std::make_unique<LinkStore>(std::move(peer), options);
  store->start();
  return store;
}

}  // namespace otp::store
