#include "store/helper_store.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "base/json.h"
#include "store/helper_protocol.h"

namespace otp::store {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::size_t kMaxLine = 1 << 20;

// What the caller may have lowered or changed, set back for the helper:
// (resource, soft and hard limit). Raising a hard limit needs root; where
// the module is not root (tests) the helper keeps what it can.
struct LimitReset {
  int resource;
  rlim_t value;
};
constexpr LimitReset kLimits[] = {
    {RLIMIT_NOFILE, 1024},          {RLIMIT_CPU, RLIM_INFINITY},  {RLIMIT_FSIZE, RLIM_INFINITY},
    {RLIMIT_DATA, RLIM_INFINITY},   {RLIMIT_AS, RLIM_INFINITY},   {RLIMIT_STACK, 8 << 20},
    {RLIMIT_MEMLOCK, 8 << 20},      {RLIMIT_CORE, 0},             {RLIMIT_NPROC, RLIM_INFINITY},
};

// The child's side of the fork, up to execve: only async-signal-safe calls
// (the host process may have threads). Exit status 126: it could not
// become the helper.
[[noreturn]] void become_helper(int fd, const char* const* argv, uid_t uid, gid_t gid) {
  static const char* const kEnvironment[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", nullptr};
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (::dup2(fd, 0) < 0 || ::dup2(fd, 1) < 0 || null < 0 || ::dup2(null, 2) < 0) _exit(126);
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Out of the caller's session and process group: no terminal signals.
  ::setsid();
  // Every uid the module's effective one (root): the caller, whose real uid
  // the module has, can then neither signal nor trace the helper. Raw
  // system calls: the C library's wrappers synchronise threads the child
  // does not have.
  if (uid == 0 && ::syscall(SYS_setgroups, 0, nullptr) != 0) _exit(126);
  if (::syscall(SYS_setresgid, gid, gid, gid) != 0 || ::syscall(SYS_setresuid, uid, uid, uid) != 0) _exit(126);
  for (const auto& l : kLimits) {
    const auto resource = static_cast<__rlimit_resource_t>(l.resource);
    rlimit limit{l.value, l.value};
    // Without CAP_SYS_RESOURCE a hard limit cannot be raised: then at least
    // the soft one up to it.
    if (::setrlimit(resource, &limit) != 0 && ::getrlimit(resource, &limit) == 0) {
      limit.rlim_cur = std::min(l.value, limit.rlim_max);
      ::setrlimit(resource, &limit);
    }
  }
  ::setpriority(PRIO_PROCESS, 0, 0);
  const sched_param normal{};
  ::sched_setscheduler(0, SCHED_OTHER, &normal);
  ::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, 0 /* the default class */);
  ::personality(PER_LINUX);
  ::umask(077);
  if (::chdir("/") != 0) _exit(126);
  ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(kEnvironment));
  _exit(126);
}

class HelperStore final : public Store {
 public:
  HelperStore(std::string helper, pid_t pid, int fd, const HelperOptions& options)
      : helper_(std::move(helper)), pid_(pid), fd_(fd), options_(options) {}
  HelperStore(const HelperStore&) = delete;
  HelperStore& operator=(const HelperStore&) = delete;
  ~HelperStore() override { stop(); }

  // The helper's first answer: the store is open (or why not).
  void wait_until_ready() {
    protocol::result_of(read_answer(steady_clock::now() + per_call()));
    ready_ = true;
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
  int count(const std::string& kind, const std::string& key, std::int64_t since) override {
    return protocol::read_int(protocol::result_of(call(protocol::count_request(kind, key, since))));
  }
  void forget(const std::string& user) override { protocol::result_of(call(protocol::forget_request(user))); }
  void forget_rhost(const std::string& rhost_hash) override {
    protocol::result_of(call(protocol::forget_rhost_request(rhost_hash)));
  }

 private:
  milliseconds per_call() const { return options_.wait_budget + options_.slack; }

  Json::Value call(const Json::Value& request) {
    if (fd_ < 0) throw Error("the state helper is gone (" + why_gone_ + ")");
    const auto deadline = steady_clock::now() + per_call();
    const std::string line = json::to_string(request) + "\n";
    for (std::size_t sent = 0; sent < line.size();) {
      wait_for(POLLOUT, deadline);
      const ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) give_up(std::string("cannot write to it: ") + std::strerror(errno));
      sent += static_cast<std::size_t>(n);
    }
    return read_answer(deadline);
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
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) give_up(n == 0 ? "it ended" : std::string("cannot read from it: ") + std::strerror(errno));
      buffer_.append(chunk, static_cast<std::size_t>(n));
      wipe_bytes(chunk, static_cast<std::size_t>(n));
    }
  }

  // Waits until the socket is ready for `events`, or gives the helper up at the deadline.
  void wait_for(short events, steady_clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
      if (left <= 0) give_up("it did not answer within " + std::to_string(per_call().count()) + " ms");
      pollfd p{fd_, events, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(left));
      if (rc > 0) return;
      if (rc < 0 && errno != EINTR) give_up(std::string("poll: ") + std::strerror(errno));
    }
  }

  [[noreturn]] void give_up(const std::string& why) {
    why_gone_ = why;
    const int status = stop(true);
    std::string exit;
    if (WIFEXITED(status)) exit = " (it exited with status " + std::to_string(WEXITSTATUS(status)) + ")";
    // Until it has answered once it has not shown it is a working helper.
    if (!ready_) throw HelperUnavailable("the state helper " + helper_ + " did not start: " + why + exit);
    throw Error("state helper " + helper_ + ": " + why + exit);
  }

  // Ends the helper (at once with kill, else by closing its input) and
  // reaps it; its wait status, or -1 when another reaped it.
  int stop(bool kill = false) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (pid_ <= 0) return -1;
    int status = -1;
    if (kill) ::kill(pid_, SIGKILL);
    for (int i = 0; i < 100; ++i) {  // it exits at the end of its input
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_ || (done < 0 && errno != EINTR)) {
        const bool ours = done == pid_;
        pid_ = -1;
        return ours ? status : -1;
      }
      std::this_thread::sleep_for(milliseconds(2));
    }
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

  std::string helper_;
  pid_t pid_;
  int fd_;
  HelperOptions options_;
  std::string buffer_;
  std::string why_gone_;
  bool ready_ = false;
};

}  // namespace

std::unique_ptr<Store> open_helper_store(const std::string& path, const HelperOptions& options) {
  struct stat st {};
  if (options.helper.empty() || options.helper[0] != '/' || ::stat(options.helper.c_str(), &st) != 0 ||
      !S_ISREG(st.st_mode) || ::access(options.helper.c_str(), X_OK) != 0)
    throw HelperUnavailable("the state helper " + options.helper + " cannot be run: " +
                            (errno != 0 ? std::strerror(errno) : "not an executable file"));
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    throw HelperUnavailable(std::string("cannot start the state helper: socketpair: ") + std::strerror(errno));
  // Everything the child needs, made before the fork.
  const std::string budget = std::to_string(options.wait_budget.count());
  const char* const argv[] = {options.helper.c_str(), path.c_str(), budget.c_str(), nullptr};
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const pid_t pid = ::fork();
  if (pid == 0) become_helper(pair[1], argv, uid, gid);
  const int saved = errno;
  ::close(pair[1]);
  if (pid < 0) {
    ::close(pair[0]);
    throw HelperUnavailable(std::string("cannot start the state helper: fork: ") + std::strerror(saved));
  }
  auto store = std::make_unique<HelperStore>(options.helper, pid, pair[0], options);
  store->wait_until_ready();
  return store;
}

namespace {

// One line from fd (without its newline), or nullopt at the end of input,
// after idle_seconds without one, or for a line too long.
std::optional<std::string> next_line(int fd, std::string& buffer, int idle_seconds) {
  for (;;) {
    if (const auto end = buffer.find('\n'); end != std::string::npos) {
      std::string line = buffer.substr(0, end);
      wipe_bytes(buffer.data(), end + 1);
      buffer.erase(0, end + 1);
      return line;
    }
    if (buffer.size() > kMaxLine) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, idle_seconds * 1000);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return std::nullopt;
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

bool write_line(int fd, Json::Value answer) {
  const json::WipeOnExit wipe_answer(answer);
  std::string line = json::to_string(answer) + "\n";
  bool ok = true;
  for (std::size_t done = 0; ok && done < line.size();) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  otp::wipe(line);
  return ok;
}

}  // namespace

int run_state_helper(int argc, char** argv, int idle_seconds) {
  ::signal(SIGPIPE, SIG_IGN);
  if (argc != 3) {
    static const char kUsage[] = "usage: state-helper STATE_FILE WAIT_BUDGET_MS (pam_otp runs it; see pam_otp(8))\n";
    (void)!::write(2, kUsage, sizeof kUsage - 1);
    return 2;
  }
  std::unique_ptr<Store> store;
  Json::Value ready(Json::objectValue);
  try {
    store = open_sqlite_store(argv[1], {milliseconds(std::strtol(argv[2], nullptr, 10)), true});
    ready["ok"] = true;
    ready["result"] = Json::Value(Json::nullValue);
  } catch (const std::exception& e) {
    ready["ok"] = false;
    ready["error"] = e.what();
  }
  if (!write_line(1, ready) || !store) return 1;
  std::string buffer;
  while (auto line = next_line(0, buffer, idle_seconds)) {
    auto request = json::parse(*line);
    Json::Value answer = request ? protocol::serve(*store, *request) : protocol::serve(*store, Json::Value());
    if (!write_line(1, std::move(answer))) return 1;
  }
  return 0;
}

}  // namespace otp::store
