// otp-login: one whole PAM login as a user would do it, for concurrency
// tests and benchmarks. The conversation answers the password prompt with
// PASSWORD and any other prompt with the code the mock provider delivered to
// DESTINATION (read from its /mock/last_code control API).
//
//   otp-login SERVICE USER PASSWORD MOCK_URL CA_FILE DESTINATION [REPEAT]
//
// Run it under pam_wrapper (LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1
// PAM_WRAPPER_SERVICE_DIR=...). Exit status 0 when pam_authenticate says
// PAM_SUCCESS (every time); otherwise the PAM error is printed and the status
// is 1. With REPEAT, the login (pam_start, pam_authenticate, pam_end) runs
// REPEAT times in this process, and the resident memory after a tenth of
// them and at the end is printed: "rss_kib <after warm-up> <at the end>".
//
// For benchmarks: OTP_LOGIN_CODE=C answers C to the code prompt without
// asking the mock (pair it with the mock's fixed_code setting), and
// OTP_LOGIN_TIMES=1 prints, per login, "login <CLOCK_MONOTONIC ns at the
// end of pam_authenticate> <pam_authenticate's duration in us> <peak
// resident memory of the process so far, KiB> <1 if libcurl is loaded in the
// process, else 0> <1 if libpq is, else 0>". OTP_LOGIN_RHOST=ADDR sets
// PAM_RHOST (a remote login, as sshd's). OTP_LOGIN_SMAPS=FILE copies
// /proc/self/smaps to FILE after pam_authenticate (where the memory is).
//
// As su and sudo run, for tests of what their caller can do to the login:
// OTP_LOGIN_REAL_UID=N makes N the process's real uid (its effective and
// saved uids stay root's, as in a setuid program), so that N may signal it;
// OTP_LOGIN_NOFILE=N lowers its descriptor limit to N first, as the
// caller's `ulimit -n N` would. Both need root.
//
// Many at once under pam_wrapper: pass OTP_LOGIN_PAM_WRAPPER=1 instead of
// PAM_WRAPPER=1. pam_wrapper picks its /tmp/pam.X directory in its library
// constructor, before main and without a lock, when PAM_WRAPPER=1 is set at
// start: processes started together can pick the same one, and the first to
// exit deletes it under the others. Set here, under the lock, PAM_WRAPPER=1
// makes pam_wrapper do that set-up in the first pam_start instead.
#include <fcntl.h>
#include <security/pam_appl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "pam_wrapper_lock.h"

extern char** environ;

namespace {

struct Login {
  std::string password, mock_url, ca_file, destination;
  const char* fixed_code = std::getenv("OTP_LOGIN_CODE");
  bool print_times = std::getenv("OTP_LOGIN_TIMES") != nullptr;
};

long long monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// Percent-encodes everything but letters and digits ('+' above all).
std::string url_escape(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c)) out += static_cast<char>(c);
    else out += std::string("%") + kHex[c >> 4] + kHex[c & 15];
  }
  return out;
}

// Runs curl with ARGS and returns what it printed ("" if it failed). Not
// through a shell, and without pam_wrapper and nss_wrapper in its
// environment: they would set themselves up in every child.
std::string run_curl(std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>("curl")}, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0 && std::strncmp(*e, "PAM_WRAPPER", 11) != 0) envp.push_back(*e);
  envp.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "curl", &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string out;
  char buffer[256];
  for (ssize_t n; spawned == 0 && (n = read(fds[0], buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 1;
  if (spawned == 0) waitpid(pid, &status, 0);
  return status == 0 ? out : "";
}

// The code the mock last delivered to the destination, waiting for it a
// little. Through the curl program, not libcurl: a login program that links
// libcurl would hide the cost of loading it from the benchmark.
std::string delivered_code(const Login& login) {
  const std::string url = login.mock_url + "/mock/last_code?to=" + url_escape(login.destination);
  for (int i = 0; i < 200; ++i) {
    const std::string body = run_curl({"-sf", "--noproxy", "*", "--cacert", login.ca_file, url});
    if (!body.empty()) return body.substr(0, body.find('\n'));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

int conversation(int n, const pam_message** msgs, pam_response** resp, void* data) {
  const auto& login = *static_cast<const Login*>(data);
  auto* out = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
  if (out == nullptr) return PAM_BUF_ERR;
  for (int i = 0; i < n; ++i) {
    const int style = msgs[i]->msg_style;
    if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON) continue;
    const bool password = std::strstr(msgs[i]->msg, "assword") != nullptr;
    const std::string code = password || login.fixed_code != nullptr ? "" : delivered_code(login);
    out[i].resp = strdup(password ? login.password.c_str() : login.fixed_code != nullptr ? login.fixed_code : code.c_str());
  }
  *resp = out;
  return PAM_SUCCESS;
}

// A "VmRSS:"-like line of /proc/self/status, in KiB.
long status_kib(const char* field) {
  std::ifstream status("/proc/self/status");
  const std::size_t length = std::strlen(field);
  for (std::string line; std::getline(status, line);)
    if (line.compare(0, length, field) == 0) return std::strtol(line.c_str() + length, nullptr, 10);
  return -1;
}

long resident_kib() { return status_kib("VmRSS:"); }

// Is a library whose path holds `name` ("/libcurl") mapped?
bool loaded(const char* name) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find(name) != std::string::npos) return true;
  return false;
}

bool login_once(const char* service, const char* user, Login& login) {
  const pam_conv conv{conversation, &login};
  pam_handle_t* ph = nullptr;
  int started = PAM_ABORT;
  {
    const otp::testing::PamWrapperSetupLock lock;
    if (const char* wrapped = std::getenv("OTP_LOGIN_PAM_WRAPPER")) setenv("PAM_WRAPPER", wrapped, 1);
    started = pam_start(service, user, &conv, &ph);
  }
  if (started != PAM_SUCCESS) {
    std::fprintf(stderr, "otp-login %s: pam_start: %s\n", user, pam_strerror(nullptr, started));
    return false;
  }
  if (const char* rhost = std::getenv("OTP_LOGIN_RHOST")) pam_set_item(ph, PAM_RHOST, rhost);
  const long long start = monotonic_ns();
  const int rc = pam_authenticate(ph, 0);
  const long long end = monotonic_ns();
  if (login.print_times) std::printf("login %lld %lld %ld %d %d\n", end, (end - start) / 1000, status_kib("VmHWM:"),
                                   loaded("/libcurl") ? 1 : 0, loaded("/libpq") ? 1 : 0);
  if (const char* copy = std::getenv("OTP_LOGIN_SMAPS")) {  // where the resident memory is, for bench analysis
    std::ifstream in("/proc/self/smaps");
    std::ofstream(copy) << in.rdbuf();
  }
  if (rc != PAM_SUCCESS) std::fprintf(stderr, "otp-login %s: %s\n", user, pam_strerror(ph, rc));
  pam_end(ph, rc);
  return rc == PAM_SUCCESS;
}


}  // namespace

// What the caller of a setuid program controls (OTP_LOGIN_REAL_UID, OTP_LOGIN_NOFILE).
bool act_as_setuid_program() {
  if (const char* uid = std::getenv("OTP_LOGIN_REAL_UID")) {
    if (setresuid(static_cast<uid_t>(std::atol(uid)), 0, 0) != 0) {
      std::perror("otp-login: setresuid");
      return false;
    }
  }
  if (const char* nofile = std::getenv("OTP_LOGIN_NOFILE")) {
    const rlimit limit{static_cast<rlim_t>(std::atol(nofile)), static_cast<rlim_t>(std::atol(nofile))};
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      std::perror("otp-login: setrlimit");
      return false;
    }
  }
  return true;
}

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8) {
    std::fprintf(stderr, "usage: otp-login SERVICE USER PASSWORD MOCK_URL CA_FILE DESTINATION [REPEAT]\n");
    return 2;
  }
  if (!act_as_setuid_program()) return 2;
  Login login{argv[3], argv[4], argv[5], argv[6]};
  const int repeat = argc == 8 ? std::atoi(argv[7]) : 1;
  const int warm_up = repeat / 10;
  long after_warm_up = resident_kib();
  bool ok = true;
  for (int i = 0; i < repeat && ok; ++i) {
    ok = login_once(argv[1], argv[2], login);
    if (i + 1 == warm_up) after_warm_up = resident_kib();
  }
  if (argc == 8) std::printf("rss_kib %ld %ld\n", after_warm_up, resident_kib());
  return ok ? 0 : 1;
}
