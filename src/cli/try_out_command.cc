// pam-otp try-out: runs the try-out provider in the foreground, so that an
// administrator can try the whole path (pam-otp check, pam-otp test USER)
// on the installed package before a real provider is configured.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli/commands.h"
#include "cli/try_out.h"

namespace otp::cli {

std::string try_out_dir() { return PAM_OTP_TRYOUT_DIR; }
std::string try_out_server() { return PAM_OTP_TRYOUT_SERVER; }
std::string try_out_ca() { return try_out_dir() + "/ca.pem"; }

bool uses_try_out(const config::Config& cfg) { return cfg.tls.ca_file == try_out_ca(); }

bool mentions_try_out(const Problems& problems) {
  for (const auto& p : problems.list())
    if (!p.warning && p.message.find(try_out_dir()) != std::string::npos) return true;
  return false;
}

namespace {

constexpr char kDefaultPort[] = "8443";  // the port of the shipped base_url

std::string usage() {
  return "Usage: pam-otp try-out [--port N] [--dir DIR] [--server PATH]\n\n"
         "Serves a stand-in OTP provider on https://127.0.0.1:" + std::string(kDefaultPort) +
         ", the [provider.mock]\nof the shipped " + config::default_config_path() +
         ", until Ctrl-C. It sends nothing:\neach code it \"sends\" is printed here. "
         "In another terminal, as root:\n\n"
         "  pam-otp check\n"
         "  pam-otp test alice      (alice: a user of this machine listed in the users file)\n\n"
         "Each start makes a new certificate authority in DIR (default\n" + try_out_dir() +
         "), whose ca.pem is the shipped config's ca_file; its key\nis not kept. This is for "
         "trying pam_otp only: configure your provider and\nremove that ca_file line before "
         "you enable pam_otp (pam-otp enable refuses\nwhile ca_file is the try-out CA).\n\n"
         "  --port N       listen on 127.0.0.1 port N (default " + kDefaultPort + ")\n"
         "  --dir DIR      where the certificates go (default " + try_out_dir() + ")\n"
         "  --server PATH  the server program (default " + try_out_server() + ")\n";
}

struct TryOutOptions {
  std::string port = kDefaultPort;
  std::string dir = try_out_dir();
  std::string server = try_out_server();
  bool help = false;
};

bool parse(const std::vector<std::string>& args, TryOutOptions& o, std::ostream& err) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "-h" || a == "--help") o.help = true;
    else if (a == "--port" && has_value) o.port = args[++i];
    else if (a == "--dir" && has_value) o.dir = args[++i];
    else if (a == "--server" && has_value) o.server = args[++i];
    else {
      err << "pam-otp try-out: unexpected argument '" << a << "'\n";
      return false;
    }
  }
  return true;
}

}  // namespace

int run_try_out(const std::vector<std::string>& arguments, std::ostream& out, std::ostream& err) {
  TryOutOptions o;
  if (!parse(arguments, o, err)) {
    err << usage();
    return kExitUsage;
  }
  if (o.help) {
    out << usage();
    return kExitOk;
  }
  if (::access(o.server.c_str(), X_OK) != 0) {
    err << "pam-otp try-out: " << o.server << ": " << std::strerror(errno)
        << " (pam-otp was built without the mock provider, PAM_OTP_BUILD_MOCK=OFF?)\n";
    return kExitFailed;
  }
  out << "pam-otp try-out: a stand-in provider for trying pam_otp; it sends nothing, the codes appear here.\n"
      << "  In another terminal, as root: pam-otp check; pam-otp test USER (a user listed in the users file).\n"
      << "  Ctrl-C stops it. Configure your provider, and remove ca_file, before pam-otp enable.\n"
      << std::flush;
  const char* argv[] = {"otp-mock", "--pki-dir", o.dir.c_str(), "--fresh-pki", "--port", o.port.c_str(),
                        "--print-codes", nullptr};
  ::execv(o.server.c_str(), const_cast<char* const*>(argv));
  err << "pam-otp try-out: cannot run " << o.server << ": " << std::strerror(errno) << "\n";
  return kExitFailed;
}

}  // namespace otp::cli
