// pam-otp enable / disable: the guided way into and out of the package's
// pam-auth-update profile ("otp", which puts pam_otp into common-auth).
// enable refuses every state in which the profile would lock people out:
// a configuration with errors, the try-out provider, an administrator
// without a destination, and no code received and typed in this very run.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/terminal.h"
#include "cli/try_out.h"
#include "flow/explain.h"

extern char** environ;

namespace otp::cli {
namespace {

constexpr char kProfile[] = "otp";  // packaging/debian/pam-configs/otp
constexpr char kPamAuthUpdate[] = "/usr/sbin/pam-auth-update";

constexpr char kEnableUsage[] = R"(Usage: pam-otp enable [--user NAME] [--root DIR]

Puts pam_otp into /etc/pam.d/common-auth (pam-auth-update --enable otp), so
that every login that includes it asks for a code after the password, but
only when that cannot lock you out. It refuses while:
  - `pam-otp check` reports an error, or the provider is still the try-out one;
  - the administrator running it (SUDO_USER, or NAME) would not be asked for
    a code: not in scope, or no destination in the users file;
  - no code has reached that administrator and been typed back in this run:
    it offers to run `pam-otp test NAME` and goes on only when it succeeds.
It checks /etc/security/pam_otp.conf, the file the profile's logins read.

  --user NAME  the administrator to test (default: SUDO_USER)
  --root DIR   let pam-auth-update act on the PAM files under DIR (its --root)

Exit status: 0 when pam_otp is in common-auth, 1 when it refused or failed.
Undo with `pam-otp disable`.
)";

constexpr char kDisableUsage[] = R"(Usage: pam-otp disable [--root DIR]

Takes pam_otp out of /etc/pam.d/common-auth (pam-auth-update --disable otp)
and lists the PAM files that still load it (services you added it to by
hand, which disable leaves alone).

  --root DIR   let pam-auth-update act on the PAM files under DIR (its --root)

Exit status: 0 when common-auth no longer loads pam_otp, 1 otherwise.
)";

struct Options {
  std::string user;
  std::string root;  // "" is /
  bool help = false;
};

bool parse(const std::vector<std::string>& args, bool with_user, Options& o, const char* name, std::ostream& err) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "-h" || a == "--help") o.help = true;
    else if (a == "--user" && with_user && has_value) o.user = args[++i];
    else if (a == "--root" && has_value) o.root = args[++i];
    else {
      err << "pam-otp " << name << ": unexpected argument '" << a << "'"
          << (a == "--config" || a == "--arg" ? " (the profile's logins read " + config::default_config_path() +
                                                    " with no arguments)"
                                              : "")
          << "\n";
      return false;
    }
  }
  return true;
}

// Runs argv with our stdin, stdout and stderr; its exit status, or -1.
int run_program(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool loads_pam_otp(const std::string& line) {
  std::istringstream words(line);
  std::string word;
  if (!(words >> word) || word[0] == '#') return false;
  while (words >> word)
    if (word == "pam_otp.so" || word.ends_with("/pam_otp.so")) return true;
  return false;
}

// "FILE:LINE" of every line under DIR/etc/pam.d that loads pam_otp.
std::vector<std::string> pam_otp_lines(const std::string& root) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& file : std::filesystem::directory_iterator(root + "/etc/pam.d", ec)) {
    std::ifstream in(file.path());
    int number = 0;
    for (std::string line; std::getline(in, line);)
      if (++number, loads_pam_otp(line)) found.push_back(file.path().string() + ":" + std::to_string(number));
  }
  std::sort(found.begin(), found.end());
  return found;
}

bool common_auth_loads_otp(const std::string& root) {
  const std::string common_auth = root + "/etc/pam.d/common-auth:";
  for (const auto& where : pam_otp_lines(root))
    if (where.starts_with(common_auth)) return true;
  return false;
}

bool is_root_with_profile(const Options& o, const char* name, std::ostream& err) {
  if (::geteuid() != 0) {
    err << "pam-otp " << name << ": must be run as root (sudo pam-otp " << name << ")\n";
    return false;
  }
  const std::string profile = o.root + "/usr/share/pam-configs/" + kProfile;
  if (!std::filesystem::exists(profile)) {
    err << "pam-otp " << name << ": " << profile << " is missing: the pam-auth-update profile comes with the "
        << "Debian package; elsewhere, add pam_otp to your PAM files as pam_otp(8)'s recipes show\n";
    return false;
  }
  return true;
}

int pam_auth_update(const Options& o, const char* action) {
  std::vector<std::string> argv = {kPamAuthUpdate};
  if (!o.root.empty()) argv.insert(argv.end(), {"--root", o.root});
  argv.insert(argv.end(), {action, kProfile});
  return run_program(argv);
}

// The configuration the profile's logins will read, checked as `pam-otp
// check` does; nullptr (after saying why) when enabling would be unsafe.
std::unique_ptr<config::Loaded> safe_configuration(std::ostream& out, std::ostream& err) {
  Problems problems;
  auto loaded = check_configuration({}, false, SshdPaths{}, problems);
  report_check(problems, {}, loaded.get(), out);
  if (problems.has_errors()) {
    err << "pam-otp enable: not enabled: fix the errors above first (pam-otp check)\n";
    return nullptr;
  }
  if (uses_try_out(loaded->config)) {
    err << "pam-otp enable: not enabled: " << loaded->config.path << " still uses the try-out provider (ca_file = "
        << try_out_ca() << "): every login would depend on `pam-otp try-out` running. Configure your provider "
        << "(pam_otp.conf(5)) and remove ca_file first\n";
    return nullptr;
  }
  return loaded;
}

std::optional<std::string> administrator(const Options& o, std::ostream& err) {
  if (!o.user.empty()) return o.user;
  const char* sudo_user = std::getenv("SUDO_USER");
  if (sudo_user != nullptr && *sudo_user != '\0') return std::string(sudo_user);
  err << "pam-otp enable: not enabled: no administrator to test: run it through sudo as yourself, or name "
      << "the administrator with --user NAME\n";
  return std::nullopt;
}

// Says where USER's code would go; false when USER would not be asked for one.
bool would_get_code(const config::Loaded& loaded, const flow::LoginRequest& request, std::ostream& out,
                    std::ostream& err) {
  flow::SystemUserDirectory directory;
  const auto e = flow::explain(loaded, request, directory);
  for (const auto& [label, text] : e.lines) out << "  " << label << ": " << text << "\n";
  if (!e.code_would_be_sent)
    err << "pam-otp enable: not enabled: " << request.user << " would not be asked for a code (see above), so "
        << "nothing proves that a code reaches them; give them a destination in " << loaded.config.users_file
        << ", or name another administrator with --user\n";
  return e.code_would_be_sent;
}

bool test_succeeds(const config::Loaded& loaded, const flow::LoginRequest& request, std::ostream& out,
                   std::ostream& err) {
  TerminalConversation terminal(out);
  const auto answer = terminal.ask("Send " + request.user + " a code now and ask for it here (pam-otp test " +
                                       request.user + ")? [y/N] ",
                                   true);
  const std::string yes = answer ? std::string(answer->reveal()) : "";
  if (yes != "y" && yes != "Y" && yes != "yes") {
    err << "pam-otp enable: not enabled: it needs a successful pam-otp test of " << request.user << " first\n";
    return false;
  }
  const flow::AuthResult result = terminal_login(loaded, request, out);
  out << "result: " << flow::result_name(result) << "\n";
  if (result != flow::AuthResult::Success)
    err << "pam-otp enable: not enabled: the test of " << request.user << " did not succeed ("
        << flow::result_name(result) << "); logins would fail the same way\n";
  return result == flow::AuthResult::Success;
}

bool enable_profile(const Options& o, std::ostream& out, std::ostream& err) {
  out << "Running: pam-auth-update" << (o.root.empty() ? "" : " --root " + o.root) << " --enable " << kProfile
      << "\n" << std::flush;
  const int status = pam_auth_update(o, "--enable");
  if (status != 0 || !common_auth_loads_otp(o.root)) {
    err << "pam-otp enable: pam-auth-update " << (status == 0 ? "did not add pam_otp to " : "failed on ")
        << o.root << "/etc/pam.d/common-auth (local modifications? see its message above)\n";
    return false;
  }
  out << "pam_otp is enabled: " << o.root << "/etc/pam.d/common-auth asks for a code after the password, for\n"
      << "every service that includes it (sudo, su, login, sshd with a password).\n"
      << "Keep this root shell open and try a new login in another terminal (sudo -k; sudo true).\n"
      << "SSH logins with a public key skip common-auth: see the public key recipe in pam_otp(8).\n"
      << "To undo: pam-otp disable   (or: pam-auth-update --disable " << kProfile << ")\n";
  return true;
}

}  // namespace

int run_enable(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (!parse(args, true, o, "enable", err)) {
    err << kEnableUsage;
    return kExitUsage;
  }
  if (o.help) {
    out << kEnableUsage;
    return kExitOk;
  }
  if (!is_root_with_profile(o, "enable", err)) return kExitFailed;
  if (common_auth_loads_otp(o.root)) {
    out << o.root << "/etc/pam.d/common-auth already loads pam_otp (pam-otp disable takes it out)\n";
    return kExitOk;
  }
  const auto loaded = safe_configuration(out, err);
  if (!loaded) return kExitFailed;
  const auto user = administrator(o, err);
  if (!user) return kExitFailed;
  flow::LoginRequest request;
  request.user = *user;
  request.service = "pam-otp";
  out << "Who gets a code: " << *user << "\n";
  if (!would_get_code(*loaded, request, out, err) || !test_succeeds(*loaded, request, out, err)) return kExitFailed;
  return enable_profile(o, out, err) ? kExitOk : kExitFailed;
}

int run_disable(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (!parse(args, false, o, "disable", err)) {
    err << kDisableUsage;
    return kExitUsage;
  }
  if (o.help) {
    out << kDisableUsage;
    return kExitOk;
  }
  if (!is_root_with_profile(o, "disable", err)) return kExitFailed;
  const int status = pam_auth_update(o, "--disable");
  if (status != 0 || common_auth_loads_otp(o.root)) {
    err << "pam-otp disable: " << o.root << "/etc/pam.d/common-auth still loads pam_otp"
        << (status == 0 ? " (a line added by hand? remove it yourself)" : " (pam-auth-update failed)") << "\n";
    return kExitFailed;
  }
  out << "pam_otp is out of " << o.root << "/etc/pam.d/common-auth.\n";
  const auto others = pam_otp_lines(o.root);
  for (const auto& where : others) out << "  still loaded by " << where << " (added by hand: disable leaves it)\n";
  return kExitOk;
}

}  // namespace otp::cli
