#include "slapd_server.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "server_util.h"
#include "test_pki.h"

namespace otp::testing {
namespace {

std::runtime_error failure(const std::string& what) { return std::runtime_error("slapd for tests: " + what); }


// Runs argv with a clean environment (none of the test's preloaded
// wrappers) plus `env`, stdin from `input`, stdout and stderr to `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& input,
            const std::string& log) {
  std::vector<std::string> full_env{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  full_env.insert(full_env.end(), env.begin(), env.end());
  std::vector<char*> args, envp;
  std::vector<std::string> a = argv, e = full_env;
  for (auto& s : a) args.push_back(s.data());
  for (auto& s : e) envp.push_back(s.data());
  args.push_back(nullptr);
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw failure("fork failed");
  if (pid == 0) {
    const int in = ::open(input.empty() ? "/dev/null" : input.c_str(), O_RDONLY | O_CLOEXEC);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (in >= 0) ::dup2(in, 0);
    if (out >= 0) ::dup2(out, 1), ::dup2(out, 2);
    ::setsid();
    // Dies with the test program, even one killed with SIGKILL. (The
    // signal comes when the thread that forked ends: servers are started
    // from the test's own thread.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) ::_exit(126);  // (the test program died before prctl)
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}



}  // namespace

SlapdServer::SlapdServer(SlapdOptions options) : options_(options) {
  char name[] = "/tmp/otp-slapd-XXXXXX";
  if (::mkdtemp(name) == nullptr) throw failure("mkdtemp failed");
  dir_ = name;
  const mock::Pki pki = mock::make_pki(dir_ + "/pki");
  ca_ = pki.ca_cert;
  std::filesystem::create_directory(dir_ + "/db");
  admin_password_ = random_text();
  std::ofstream(dir_ + "/slapd.conf")
      << "include /etc/ldap/schema/core.schema\n"
         "include /etc/ldap/schema/cosine.schema\n"
         "include /etc/ldap/schema/inetorgperson.schema\n"
         "modulepath /usr/lib/ldap\n"
         "moduleload back_mdb\n"
         "pidfile " << dir_ << "/slapd.pid\n"
      << "TLSCACertificateFile " << pki.ca_cert << "\n"
      << "TLSCertificateFile " << (options_.wrong_host_certificate ? pki.wrong_host_cert : pki.server_cert) << "\n"
      << "TLSCertificateKeyFile " << (options_.wrong_host_certificate ? pki.wrong_host_key : pki.server_key) << "\n"
      // Every operation over TLS only: a client that does not start TLS
      // (libldap following a referral by itself) is refused.
      << "security ssf=128\n"
      << "database mdb\n"
         "maxsize 16777216\n"
         "suffix \"" << kBase << "\"\n"
      << "rootdn \"" << kAdmin << "\"\n"
      << "rootpw " << admin_password_ << "\n"
      << "directory " << dir_ << "/db\n";
  ldap_port_ = free_loopback_port();
  ldaps_port_ = free_loopback_port();
  start();
  add(std::string("dn: ") + kBase + "\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n");
}

SlapdServer::~SlapdServer() {
  try {
    thaw();
    stop();
  } catch (...) {
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void SlapdServer::start() {
  if (pid_ > 0) return;
  // -d 0: in the foreground (its pid is the server's), logging nothing.
  pid_ = spawn({"/usr/sbin/slapd", "-d", "0", "-f", dir_ + "/slapd.conf", "-h",
                ldap_uri() + "/ " + ldaps_uri() + "/"},
               {}, "", dir_ + "/slapd.log");
  wait_until_listening();
}

void SlapdServer::wait_until_listening() const {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) throw failure("slapd exited: " + read_text(dir_ + "/slapd.log"));
    bool up = true;
    for (const int port : {ldap_port_, ldaps_port_}) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(port));
      up = up && fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      if (fd >= 0) ::close(fd);
    }
    if (up) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw failure("not listening within 30 s: " + read_text(dir_ + "/slapd.log"));
}

void SlapdServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void SlapdServer::freeze() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void SlapdServer::thaw() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void SlapdServer::add(const std::string& ldif, bool modify) const {
  const std::string input = dir_ + "/input.ldif", log = dir_ + "/ldapadd.log";
  std::ofstream(input, std::ios::trunc) << ldif;
  std::ofstream(log, std::ios::trunc);
  const pid_t pid = spawn({modify ? "/usr/bin/ldapmodify" : "/usr/bin/ldapadd", "-x", "-H", ldaps_uri(), "-D", kAdmin,
                           "-w", admin_password_},
                          {"LDAPTLS_CACERT=" + ca_,
                           // (a certificate for another name cannot be verified: that is its point)
                           options_.wrong_host_certificate ? "LDAPTLS_REQCERT=allow" : "LDAPTLS_REQCERT=hard"},
                          input, log);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw failure("ldapadd failed: " + read_text(log));
}

}  // namespace otp::testing
