#include "store/state_service.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <vector>

#include "base/json.h"
#include "store/helper_protocol.h"
#include "store/sqlite_store.h"

namespace otp::store {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::size_t kMaxLine = 1 << 20;

std::optional<sockaddr_un> socket_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path[0] != '/' || path.size() >= sizeof address.sun_path) return std::nullopt;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// Root, or whoever this process runs as (tests): nobody else may be the
// service a login trusts, or a login the service answers.
bool trusted_peer(int fd, uid_t* uid) {
  ucred cred{};
  socklen_t size = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0) return false;
  *uid = cred.uid;
  return cred.uid == 0 || cred.uid == ::geteuid();
}

// The module's side.
class ServicePeer final : public Peer {
 public:
  ServicePeer(std::string socket, std::string path) : socket_(std::move(socket)), path_(std::move(path)) {}

  std::string name() const override { return "the state service at " + socket_; }

  int open() override {
    const auto address = socket_address(socket_);
    if (!address) throw PeerUnavailable(name() + ": not an absolute socket path that fits");
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw PeerUnavailable(name() + ": socket: " + std::strerror(errno));
    // Non-blocking: a service whose queue is full answers EAGAIN at once.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0) {
      const int error = errno;
      ::close(fd);
      const std::string why = name() + ": " + std::strerror(error);
      // (EACCES for a login that does not run as root, a screen locker:
      // root's service is not for it. For root it is a denial, said.)
      if (error == ENOENT || error == ECONNREFUSED || (error == EACCES && ::geteuid() != 0)) throw ServiceAbsent(why);
      throw PeerUnavailable(why);
    }
    uid_t uid = 0;
    if (!trusted_peer(fd, &uid)) {
      ::close(fd);
      throw PeerUnavailable(name() + " is run by uid " + std::to_string(uid) + ", not by root");
    }
    return fd;
  }

  // The first line names the file this login keeps its state in: a
  // service that keeps another answers and hangs up, running nothing more
  // this login sent.
  std::string hello() const override {
    Json::Value hello(Json::objectValue);
    hello["op"] = "hello";
    hello["state_file"] = path_;
    return json::to_string(hello) + "\n";
  }

  // It must keep the file this login's configuration names.
  void check_ready(const Json::Value& result) override {
    const Json::Value& file = result.isObject() ? result["state_file"] : Json::Value::nullSingleton();
    if (!file.isString()) throw PeerUnavailable(name() + " did not say which state file it keeps");
    if (file.asString() != path_)
      throw PeerUnavailable(name() + " keeps " + file.asString() + ", not " + path_ + " (state_file)");
  }

  std::string close(bool /*kill*/) override { return ""; }

 private:
  std::string socket_;
  std::string path_;
};

}  // namespace

std::unique_ptr<Store> open_service_store(const std::string& socket, const std::string& path,
                                          const ServiceClientOptions& options) {
  return open_link_store(std::make_unique<ServicePeer>(socket, path),
                         {options.per_call, options.hello_with_first_call, options.hello_with_first_call});
}

namespace {

struct ServiceOptions {
  std::string state_file;
  std::string socket;
  milliseconds wait_budget{1000};  // for each request
  int idle_seconds = 300;          // a connection idle this long is closed
  std::size_t max_clients = 256;
};

// The state file, opened once and again whenever the file at its path is
// another (restored from a backup, or deleted and made anew).
class ServedStore {
 public:
  explicit ServedStore(const ServiceOptions& options) : options_(options) {}

  // The store, or nullptr with why() when it cannot be opened. The path
  // is looked at once per wake-up (a login's hello and request come in one).
  Store* get() {
    if (looked_) return store_.get();
    looked_ = true;
    struct stat st {};
    const bool same = store_ && ::stat(options_.state_file.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
    if (same) return store_.get();
    store_.reset();
    try {
      store_ = open_sqlite_store(options_.state_file, {options_.wait_budget, true, /*long_lived=*/true});
      if (::stat(options_.state_file.c_str(), &st) != 0) throw Error(options_.state_file + ": " + std::strerror(errno));
      dev_ = st.st_dev;
      ino_ = st.st_ino;
      why_.clear();
    } catch (const std::exception& e) {
      store_.reset();
      if (why_ != e.what()) std::cerr << "state service: " << e.what() << "\n";
      why_ = e.what();
    }
    return store_.get();
  }
  const std::string& why() const { return why_; }
  // Called at each wake-up: the next get() looks at the path again.
  void look_again() { looked_ = false; }

 private:
  const ServiceOptions& options_;
  bool looked_ = false;
  std::unique_ptr<Store> store_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::string why_;
};

struct Client {
  int fd = -1;
  std::string input;
  steady_clock::time_point last_heard;
  bool greeted = false;  // its hello named our file
};

// The answers to what one read brought (a login's hello and request), sent
// together: the login wakes once. Whole or not at all: a client that does
// not read its answers (its login stopped) is dropped, never waited for.
class Answers {
 public:
  Answers(const Answers&) = delete;
  Answers& operator=(const Answers&) = delete;
  explicit Answers(int fd) : fd_(fd) {}
  ~Answers() { otp::wipe(text_); }

  // false when the client did not take what was already due.
  bool add(Json::Value answer) {
    const json::WipeOnExit wipe_answer(answer);
    text_ += json::to_string(answer) + "\n";
    return text_.size() < kFlushAt || send();
  }
  bool send() {
    if (text_.empty()) return true;
    const ssize_t n = ::send(fd_, text_.data(), text_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    const bool whole = n == static_cast<ssize_t>(text_.size());
    otp::wipe(text_);
    text_.clear();
    return whole;
  }

 private:
  static constexpr std::size_t kFlushAt = 64 * 1024;  // many requests at once: not all their answers kept
  int fd_;
  std::string text_;
};

// The answer to a connection's first line, which must be {"op": "hello",
// "state_file": ...}: the file this service keeps (the module compares),
// or why it cannot open it. greeted: the hello named that file.
Json::Value hello_answer(ServedStore& served, const std::string& path, const std::optional<Json::Value>& hello,
                         bool* greeted) {
  Json::Value answer(Json::objectValue);
  const bool is_hello = hello && hello->isObject() && (*hello)["op"] == "hello" && (*hello)["state_file"].isString();
  const bool open = is_hello && served.get() != nullptr;
  answer["ok"] = open;
  if (open) answer["result"]["state_file"] = path;
  else answer["error"] = is_hello ? served.why() : "malformed request: the first must be hello";
  *greeted = open && (*hello)["state_file"].asString() == path;
  return answer;
}

class Server {
 public:
  Server(int listener, const ServiceOptions& options) : listener_(listener), options_(options), served_(options_) {
    served_.get();  // said at once when the file cannot be opened
  }

  [[noreturn]] void run() {
    for (;;) {
      std::vector<pollfd> fds;
      fds.push_back({listener_, POLLIN, 0});
      for (const auto& c : clients_) fds.push_back({c.fd, POLLIN, 0});
      // (Once a second while connections are open, for the idle ones;
      // never when there are none.)
      if (::poll(fds.data(), fds.size(), clients_.empty() ? -1 : 1000) < 0 && errno != EINTR) {
        std::cerr << "state service: poll: " << std::strerror(errno) << "\n";
        std::exit(1);
      }
      served_.look_again();
      // Clients first (their indices match fds before any is accepted).
      for (std::size_t i = clients_.size(); i-- > 0;)
        if (fds[i + 1].revents != 0 && !serve(clients_[i])) drop(i);
      if ((fds[0].revents & POLLIN) != 0) accept_all();
      drop_idle();
    }
  }

 private:
  // Every waiting connection. At the limit, the connection heard from
  // least recently makes room (a login stopped at its prompt; when it goes
  // on it connects again), so that a caller who stops many logins cannot
  // make the others wait.
  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
        // Out of descriptors (a limit below --max-clients): make room, or
        // wait a little rather than spin on the listener.
        if (clients_.empty()) ::poll(nullptr, 0, 10);
        else drop(least_recently_heard());
        continue;
      }
      if (fd < 0) return;  // EAGAIN, or a connection already gone
      uid_t uid = 0;
      if (!trusted_peer(fd, &uid)) {
        ::close(fd);
        continue;
      }
      if (clients_.size() >= options_.max_clients) drop(least_recently_heard());
      clients_.push_back({fd, "", steady_clock::now(), false});
      // Its hello may be there already.
      if (!serve(clients_.back())) drop(clients_.size() - 1);
    }
  }

  // Reads what the client sent and answers each whole line; false when the
  // client is done (it sent everything it will: a login's one request,
  // then its end) or misbehaves.
  bool serve(Client& c) {
    // A login that gave up (its time ran out) has closed its end entirely,
    // not only its input: what it asked is not run for nobody.
    pollfd gone{c.fd, 0, 0};
    if (::poll(&gone, 1, 0) > 0 && (gone.revents & (POLLHUP | POLLERR)) != 0) return false;
    char chunk[4096];
    bool ended = false;
    for (;;) {
      const ssize_t n = ::recv(c.fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) return false;
      if (n == 0) {
        ended = true;
        break;
      }
      c.input.append(chunk, static_cast<std::size_t>(n));
      wipe_bytes(chunk, static_cast<std::size_t>(n));
      if (c.input.size() > kMaxLine) return false;
    }
    c.last_heard = steady_clock::now();
    Answers answers(c.fd);
    for (auto end = c.input.find('\n'); end != std::string::npos; end = c.input.find('\n')) {
      const auto request = json::parse(std::string_view(c.input).substr(0, end));
      wipe_bytes(c.input.data(), end + 1);
      c.input.erase(0, end + 1);
      if (!c.greeted) {
        // (A hello for another file is answered, then the connection ends.)
        if (!answers.add(hello_answer(served_, options_.state_file, request, &c.greeted))) return false;
        if (!c.greeted) {
          answers.send();
          return false;
        }
        continue;
      }
      Store* store = served_.get();
      if (!answers.add(store == nullptr ? error_answer(served_.why())
                                        : protocol::serve(*store, request ? *request : Json::Value())))
        return false;
    }
    return answers.send() && !ended;
  }

  static Json::Value error_answer(const std::string& why) {
    Json::Value answer(Json::objectValue);
    answer["ok"] = false;
    answer["error"] = why;
    return answer;
  }

  // Closed with nothing left unread, so that the login reads the answers
  // sent before the end (a socket closed with unread input resets its peer).
  void drop(std::size_t i) {
    char chunk[4096];
    while (::recv(clients_[i].fd, chunk, sizeof chunk, MSG_DONTWAIT) > 0) {
    }
    ::close(clients_[i].fd);
    wipe(clients_[i].input);
    clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  std::size_t least_recently_heard() const {
    std::size_t oldest = 0;
    for (std::size_t i = 1; i < clients_.size(); ++i)
      if (clients_[i].last_heard < clients_[oldest].last_heard) oldest = i;
    return oldest;
  }

  void drop_idle() {
    const auto oldest = steady_clock::now() - std::chrono::seconds(options_.idle_seconds);
    for (std::size_t i = clients_.size(); i-- > 0;)
      if (clients_[i].last_heard < oldest) drop(i);
  }

  int listener_;
  const ServiceOptions& options_;
  ServedStore served_;
  std::vector<Client> clients_;
};

// The socket systemd passed (LISTEN_FDS=1, LISTEN_PID ours), or -1.
int systemd_socket() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid == nullptr || fds == nullptr || std::strtol(pid, nullptr, 10) != ::getpid()) return -1;
  if (std::strcmp(fds, "1") != 0) throw Error("systemd passed " + std::string(fds) + " sockets; one is expected");
  int listening = 0;
  socklen_t size = sizeof listening;
  if (::getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || listening == 0)
    throw Error("the socket systemd passed is not a listening socket");
  ::fcntl(3, F_SETFD, FD_CLOEXEC);
  return 3;
}

// A socket of our own at path, in a directory checked like the state
// file's (a login trusts what answers there).
int own_socket(const std::string& path) {
  const auto address = socket_address(path);
  if (!address) throw Error("--socket " + path + ": not an absolute path shorter than " +
                            std::to_string(sizeof address->sun_path) + " bytes");
  const auto slash = path.find_last_of('/');
  check_state_directory(slash == 0 ? "/" : path.substr(0, slash), true);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw Error(path + " exists and is not a socket");
    ::unlink(path.c_str());  // one a stopped service left behind
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(std::string("socket: ") + std::strerror(errno));
  const mode_t old = ::umask(077);
  const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof *address);
  ::umask(old);
  if (rc != 0 || ::listen(fd, 128) != 0) throw Error(path + ": " + std::strerror(errno));
  return fd;
}

std::optional<ServiceOptions> parse_options(int argc, char** argv) {
  ServiceOptions o;
  if (argc < 3) return std::nullopt;
  o.state_file = argv[2];
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const char* value = argv[i + 1];
    char* end = nullptr;
    const long n = std::strtol(value, &end, 10);
    const bool number = *value != '\0' && *end == '\0' && n > 0 && n <= 1000000;
    if (key == "--socket") o.socket = value;
    else if (key == "--wait-budget" && number) o.wait_budget = milliseconds(n);
    else if (key == "--idle" && number) o.idle_seconds = static_cast<int>(n);
    else if (key == "--max-clients" && number) o.max_clients = static_cast<std::size_t>(n);
    else return std::nullopt;
  }
  if (argc % 2 == 0) return std::nullopt;  // a key without its value
  return o;
}

}  // namespace

int run_state_service(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  const auto options = parse_options(argc, argv);
  if (!options) {
    std::cerr << "usage: state-helper --serve STATE_FILE [--socket PATH] [--wait-budget MS] [--idle SECONDS]"
                 " [--max-clients N]\n(see pam_otp(8), \"The state service\")\n";
    return 2;
  }
  try {
    int listener = systemd_socket();
    if (listener < 0) {
      if (options->socket.empty()) throw Error("no socket: systemd passed none and --socket is not given");
      listener = own_socket(options->socket);
    }
    ::fcntl(listener, F_SETFL, ::fcntl(listener, F_GETFL) | O_NONBLOCK);
    Server(listener, *options).run();
  } catch (const std::exception& e) {
    std::cerr << "state service: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace otp::store
