#include "store/helper_store.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "base/json.h"
#include "store/helper_protocol.h"
#include "store/link_store.h"

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
  // Nothing of the host's signal handling until exec: every signal blocked
  // first (the caller shares our real uid until the uids change below),
  // then every disposition back to the default (an ignored signal would
  // stay ignored across exec).
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &default_action, nullptr);
  // Out of the caller's session and process group: no terminal signals.
  ::setsid();
  // Every uid the module's effective one (root): the caller, whose real uid
  // the module has, can then neither signal nor trace the helper. Raw
  // system calls: the C library's wrappers synchronise threads the child
  // does not have.
  if (uid == 0 && ::syscall(SYS_setgroups, 0, nullptr) != 0) _exit(126);
  if (::syscall(SYS_setresgid, gid, gid, gid) != 0 || ::syscall(SYS_setresuid, uid, uid, uid) != 0) _exit(126);
  // The socket on 0 and 1 and /dev/null on 2, from descriptors above them
  // (dup2 onto itself would keep close-on-exec), and nothing else.
  const int sock = ::fcntl(fd, F_DUPFD, 3);
  const int null_fd = ::open("/dev/null", O_WRONLY);
  const int null = null_fd >= 0 && null_fd < 3 ? ::fcntl(null_fd, F_DUPFD, 3) : null_fd;
  if (sock < 0 || null < 0 || ::dup2(sock, 0) < 0 || ::dup2(sock, 1) < 0 || ::dup2(null, 2) < 0) _exit(126);
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0)  // (kernels before 5.9)
    for (int other = 3; other < 65536; ++other) ::close(other);
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
  // What the caller could have set to slow it: priority, scheduling, I/O
  // class, CPUs, timer slack; and the address space layout.
  ::setpriority(PRIO_PROCESS, 0, 0);
  const sched_param normal{};
  ::sched_setscheduler(0, SCHED_OTHER, &normal);
  ::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, 0 /* the default class */);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &cpus);
  ::sched_setaffinity(0, sizeof cpus, &cpus);
  ::prctl(PR_SET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);
  ::personality(PER_LINUX);
  ::umask(077);
  if (::chdir("/") != 0) _exit(126);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(kEnvironment));
  _exit(126);
}

struct Child {
  pid_t pid = -1;
  int fd = -1;  // the module's end of the helper's socket
};

// Starts the helper program on the state file. Throws PeerUnavailable.
Child spawn_helper(const std::string& path, const HelperOptions& options) {
  struct stat st {};
  errno = 0;
  // (AT_EACCESS: as the effective uid, root, will run it; a setuid host's
  // real uid is the caller's.)
  if (options.helper.empty() || options.helper[0] != '/' || ::stat(options.helper.c_str(), &st) != 0 ||
      !S_ISREG(st.st_mode) || ::faccessat(AT_FDCWD, options.helper.c_str(), X_OK, AT_EACCESS) != 0)
    throw PeerUnavailable("the state helper " + options.helper + " cannot be run: " +
                            (errno != 0 ? std::strerror(errno) : "not an executable file"));
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    throw PeerUnavailable(std::string("cannot start the state helper: socketpair: ") + std::strerror(errno));
  // Everything the child needs, made before the fork.
  const std::string budget = std::to_string(options.wait_budget.count());
  const std::string idle = std::to_string(options.idle_seconds);
  const char* const argv[] = {options.helper.c_str(), path.c_str(), budget.c_str(), idle.c_str(), nullptr};
  const uid_t uid = ::geteuid();
  // Root's group with root's uid: su and sudo are setuid, not setgid.
  const gid_t gid = uid == 0 ? 0 : ::getegid();
  const pid_t pid = ::fork();
  if (pid == 0) become_helper(pair[1], argv, uid, gid);
  const int saved = errno;
  ::close(pair[1]);
  if (pid < 0) {
    ::close(pair[0]);
    throw PeerUnavailable(std::string("cannot start the state helper: fork: ") + std::strerror(saved));
  }
  return {pid, pair[0]};
}

// The helper as a Peer: started by open(), ended by close().
class HelperPeer final : public Peer {
 public:
  HelperPeer(std::string path, const HelperOptions& options) : path_(std::move(path)), options_(options) {}
  ~HelperPeer() override { close(false); }

  std::string name() const override { return "the state helper " + options_.helper; }
  int open() override {
    const Child child = spawn_helper(path_, options_);
    pid_ = child.pid;
    return child.fd;
  }
  void check_ready(const Json::Value& /*result*/) override {}

  // Ends the helper (at once with kill, else its input is closed and it
  // exits) and reaps it; words about how it ended.
  std::string close(bool kill) override {
    const int status = reap(kill);
    if (status >= 0 && WIFEXITED(status)) return " (it exited with status " + std::to_string(WEXITSTATUS(status)) + ")";
    return "";
  }

 private:
  // Its wait status, or -1 when another reaped it.
  int reap(bool kill) {
    if (pid_ <= 0) return -1;
    int status = -1;
    if (kill) {
      // (Not when it is gone already: its pid may be another's by now.)
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done != 0) {
        pid_ = -1;
        return done > 0 ? status : -1;
      }
      ::kill(pid_, SIGKILL);
    }
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

  std::string path_;
  HelperOptions options_;
  pid_t pid_ = -1;
};

}  // namespace

std::unique_ptr<Store> open_helper_store(const std::string& path, const HelperOptions& options) {
  return open_link_store(std::make_unique<HelperPeer>(path, options), {options.wait_budget + options.slack});
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

int run_state_helper(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  const int idle_seconds = argc == 4 ? static_cast<int>(std::strtol(argv[3], nullptr, 10)) : 0;
  if (argc != 4 || idle_seconds < 1) {
    static const char kUsage[] =
        "usage: state-helper STATE_FILE WAIT_BUDGET_MS IDLE_SECONDS (pam_otp runs it; see pam_otp(8))\n";
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
