// pam-otp try-out: runs the try-out provider in the foreground, so that an
// administrator can try the whole path (pam-otp check, pam-otp test USER)
// on the installed package before a real provider is configured.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/try_out.h"

namespace otp::cli {
namespace {

constexpr char kTryOutDir[] = "/var/lib/pam_otp/try-out";  // conf/pam_otp.conf's ca_file names its ca.pem
constexpr char kDefaultPort[] = "8443";                     // the port of the shipped base_url
constexpr char kTryOutUrl[] = "https://127.0.0.1:8443";
constexpr char kTryOutApiKey[] = "test-api-key";  // otp-mock's default key, the shipped api_key

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return in ? text.str() : std::string();
}

}  // namespace

std::string try_out_dir() { return kTryOutDir; }
std::string try_out_server() { return PAM_OTP_TRYOUT_SERVER; }
std::string try_out_ca() { return try_out_dir() + "/ca.pem"; }

// By the path, by the CA's content (a copy of ca.pem elsewhere), or by the
// try-out's address and public API key (its CA added to the system store).
bool uses_try_out(const config::Config& cfg) {
  namespace fs = std::filesystem;
  if (!cfg.tls.ca_file.empty() && fs::path(cfg.tls.ca_file).lexically_normal() == fs::path(try_out_ca())) return true;
  if (!cfg.tls.ca_pem.empty() && cfg.tls.ca_pem == file_text(try_out_ca())) return true;
  const auto key = cfg.provider.vars.find("api_key");
  const bool public_key = key != cfg.provider.vars.end() && key->second.isString() && key->second.asString() == kTryOutApiKey;
  for (const auto& url : cfg.provider.base_urls)
    if (public_key && url.rfind(kTryOutUrl, 0) == 0) return true;
  return false;
}

bool mentions_try_out(const Problems& problems) {
  for (const auto& p : problems.list())
    if (!p.warning && p.message.find(try_out_dir()) != std::string::npos) return true;
  return false;
}

void explain_try_out(std::ostream& out) {
  out << "note: " << try_out_dir() << " is the try-out provider's: start it with `pam-otp try-out` in\n"
      << "      another terminal, or configure your provider and remove ca_file (pam_otp.conf(5))\n";
}

namespace {

std::string usage() {
  return "Usage: pam-otp try-out [--port N] [--dir DIR] [--server PATH]\n\n"
         "Serves a stand-in OTP provider on " + std::string(kTryOutUrl) + ", the [provider.mock]\n"
         "of the shipped " + config::default_config_path() + ", until Ctrl-C. It sends nothing:\n"
         "each code it \"sends\" is printed here. In another terminal, as root:\n\n"
         "  pam-otp check\n"
         "  pam-otp test alice      (alice: a user of this machine listed in the users file)\n\n"
         "Each start makes a new certificate authority in DIR (default\n" + try_out_dir() +
         "), whose ca.pem is the shipped config's ca_file; its key\nis never written. This is for "
         "trying pam_otp only: configure your provider and\nremove that ca_file line before "
         "you enable pam_otp (pam-otp enable refuses\nwhile the try-out provider is configured).\n\n"
         "  --port N       listen on 127.0.0.1 port N (default " + kDefaultPort + "; 0: any free port)\n"
         "  --dir DIR      where the certificates go (default " + try_out_dir() + ")\n"
         "  --server PATH  the server program (default " + try_out_server() + ")\n"
         "Another port or directory than the defaults no longer matches the shipped\n"
         "configuration: give pam-otp check and test --arg ca_file=DIR/ca.pem and\n"
         "--arg provider.mock.base_url=https://127.0.0.1:N.\n";
}

struct TryOutOptions {
  std::string port = kDefaultPort;
  std::string dir = try_out_dir();
  std::string server = try_out_server();
  bool help = false;
};

bool valid_port(const std::string& text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  return std::stoi(text) <= 65535;
}

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
  if (!valid_port(o.port)) {
    err << "pam-otp try-out: --port must be a number from 0 to 65535, not '" << o.port << "'\n";
    return false;
  }
  return true;
}

// DIR is created (with its parent) if missing, and must be a real directory
// of ours that nobody else can write to: the server writes its key there,
// as root.
bool safe_directory(const std::string& dir, std::ostream& err) {
  namespace fs = std::filesystem;
  const fs::path path(dir);
  // The parent is pam_otp's state directory (state_file's): root's alone.
  if (path.has_parent_path() && !fs::exists(path.parent_path())) ::mkdir(path.parent_path().c_str(), 0700);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    err << "pam-otp try-out: cannot create " << dir << ": " << std::strerror(errno) << "\n";
    return false;
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    err << "pam-otp try-out: " << dir << " must be a directory (not a symbolic link) owned by this user and "
        << "writable by nobody else\n";
    return false;
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
  if (!safe_directory(o.dir, err)) return kExitFailed;
  out << "pam-otp try-out: a stand-in provider for trying pam_otp; it sends nothing, the codes appear here.\n"
      << "  In another terminal, as root: pam-otp check; pam-otp test USER (a user listed in the users file).\n"
      << "  Ctrl-C stops it. Configure your provider, and remove ca_file, before pam-otp enable.\n"
      << std::flush;
  const char* argv[] = {"otp-mock", "--pki-dir", o.dir.c_str(), "--try-out", "--port", o.port.c_str(),
                        "--print-codes", nullptr};
  ::execv(o.server.c_str(), const_cast<char* const*>(argv));
  err << "pam-otp try-out: cannot run " << o.server << ": " << std::strerror(errno) << "\n";
  return kExitFailed;
}

}  // namespace otp::cli
