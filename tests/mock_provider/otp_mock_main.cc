// otp-mock: the mock provider as a standalone HTTPS server, for shell
// scripts and trying pam_otp by hand.
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <sstream>
#include <string>
#include <vector>

#include "duo_legacy.h"
#include "mock_provider.h"
#include "test_pki.h"

namespace {

using otp::mock::MockOptions;
using otp::mock::MockProvider;
using otp::mock::MockSettings;

constexpr char kUsage[] =
    "usage: otp-mock --pki-dir DIR [--try-out] [--port N] [--print-codes] [--api-key K]\n"
    "                [--users a,b,c]\n"
    "\n"
    "Serves the generic OTP provider API over HTTPS on 127.0.0.1, and the wire\n"
    "formats of Stytch, Descope, Twilio Verify, privacyIDEA, 1Kosmos BlockID and\n"
    "Baanx (settings and the BlockID community key: GET/POST /mock/dialects),\n"
    "and Duo's legacy /rest/v1/*.bson API for pam_duo (benchmarks).\n"
    "  --pki-dir DIR   certificates; created there unless DIR/ca.pem exists.\n"
    "                  The port is written to DIR/port.\n"
    "  --try-out       pam-otp try-out's server: new certificates at each start\n"
    "                  (ca.pem and server.*; the CA's key is never written), no\n"
    "                  /mock/ control API and no Duo routes\n"
    "  --port N        listen on N (default or 0: a free port)\n"
    "  --print-codes   print every code sent\n"
    "  --api-key K     the Bearer key clients must send (default test-api-key)\n"
    "  --users a,b,c   only these users are known (default: everyone)\n"
    "Stops on SIGINT or SIGTERM.\n";

struct Args {
  std::string pki_dir;
  int port = 0;
  bool print_codes = false;
  bool try_out = false;
  MockSettings settings;
  bool help = false;
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "otp-mock: " << msg << "\n" << kUsage;
  std::exit(2);
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

int parse_port(const std::string& s) {
  char* end = nullptr;
  const long n = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || n < 0 || n > 65535) usage_error("bad port: " + s);
  return static_cast<int>(n);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") a.help = true;
    else if (arg == "--pki-dir") a.pki_dir = value();
    else if (arg == "--port") a.port = parse_port(value());
    else if (arg == "--print-codes") a.print_codes = true;
    else if (arg == "--try-out") a.try_out = true;
    else if (arg == "--api-key") a.settings.api_key = value();
    else if (arg == "--users") a.settings.known_users = split_commas(value());
    else usage_error("unknown argument: " + arg);
  }
  if (!a.help && a.pki_dir.empty()) usage_error("--pki-dir is required");
  return a;
}

MockOptions options_for(const Args& a) {
  namespace fs = std::filesystem;
  const fs::path dir(a.pki_dir);
  if (a.try_out) otp::mock::make_pki(a.pki_dir, true);
  else if (!fs::exists(dir / "ca.pem")) otp::mock::make_pki(a.pki_dir);
  MockOptions o;
  o.cert_file = (dir / "server.pem").string();
  o.key_file = (dir / "server.key").string();
  o.port = a.port;
  o.print_codes = a.print_codes;
  o.control_api = !a.try_out;
  if (a.try_out) {  // any local user can reach it: few connections, each briefly
    o.threads = 8;
    o.bounded_queue = true;
    o.keep_alive_seconds = 2;
    o.io_timeout_seconds = 2;
  }
  return o;
}

// Root no longer once the port is bound and the key read: pam-otp try-out
// runs this as root (for its directory under /var/lib/pam_otp), and any
// local user can talk to it.
void drop_privileges() {
  uid_t uid = 65534;
  gid_t gid = 65534;
  if (const passwd* nobody = ::getpwnam("nobody")) {
    uid = nobody->pw_uid;
    gid = nobody->pw_gid;
  }
  if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0 ||
      ::setuid(0) == 0)
    throw std::runtime_error("cannot drop root's privileges");
}

// Never through a symbolic link: pam-otp try-out runs this as root.
void write_port_file(const std::string& path, int port) {
  const std::string text = std::to_string(port) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path);
}

int run(const Args& a) {
  // Blocked before any thread exists, so every server thread inherits the
  // mask and the signals wait for sigwait() below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  MockProvider mock(options_for(a));
  mock.configure(a.settings);
  if (!a.try_out) otp::mock::add_duo_legacy_routes(mock);
  const int port = mock.start();
  const auto dir = std::filesystem::path(a.pki_dir);
  write_port_file((dir / "port").string(), port);
  if (a.try_out && ::geteuid() == 0) drop_privileges();
  std::cout << "otp-mock listening on " << mock.base_url() << " (CA: " << (dir / "ca.pem").string()
            << ")" << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  mock.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  if (args.help) {
    std::cout << kUsage;
    return 0;
  }
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << "otp-mock: " << e.what() << "\n";
    return 1;
  }
}
