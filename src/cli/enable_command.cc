// pam-otp enable / disable: the guided way into and out of the package's
// pam-auth-update profile ("otp", which puts pam_otp into common-auth).
// enable refuses every state in which the profile would lock people out:
// a configuration with errors, the try-out provider, sshd settings that
// break its logins once common-auth asks for a code, users who would be
// refused outright, an administrator without a destination, and no code
// received and typed in this very run.
#include <pwd.h>
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
#include "directory/lookup.h"
#include "flow/explain.h"

extern char** environ;

namespace otp::cli {
namespace {

constexpr char kProfile[] = "otp";  // packaging/debian/pam-configs/otp
constexpr char kPamAuthUpdate[] = "/usr/sbin/pam-auth-update";

constexpr char kEnableUsage[] = R"(Usage: pam-otp enable [--user NAME] [--allow-unenrolled] [--allow-sshd-warnings]
                      [--root DIR]

Puts pam_otp into /etc/pam.d/common-auth (pam-auth-update --enable otp), so
that every login that includes it asks for a code after the password, but
only when that cannot lock you out. It refuses while:
  - `pam-otp check` reports an error, or the provider is still the try-out one;
  - sshd's settings would break its logins once common-auth asks for a code
    (the password method answers the code prompt with the password), unless
    --allow-sshd-warnings;
  - local accounts that can log in (root, uid 1000 and up, with a shell)
    would be refused outright (not enrolled, unenrolled = "deny"), unless
    --allow-unenrolled;
  - the administrator running it (SUDO_USER, DOAS_USER or the login user, or
    NAME) would not be asked for a code: not in scope, or no destination;
  - no code has reached that administrator and been typed back in this run:
    it offers to run `pam-otp test NAME` and goes on only when it succeeds.
It checks /etc/security/pam_otp.conf, the file the profile's logins read.

  --user NAME            the administrator to test
  --allow-unenrolled     enable although the accounts listed are refused
  --allow-sshd-warnings  enable although sshd's settings were warned about
  --root DIR             let pam-auth-update act on the PAM files under DIR
                         (its --root; its debconf answers go to DIR too);
                         sshd is checked with DIR/etc/ssh/sshd_config

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
  bool allow_unenrolled = false;
  bool allow_sshd_warnings = false;
  bool help = false;
};

bool parse(const std::vector<std::string>& args, bool with_user, Options& o, const char* name, std::ostream& err) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "-h" || a == "--help") o.help = true;
    else if (a == "--user" && with_user && has_value) o.user = args[++i];
    else if (a == "--allow-unenrolled" && with_user) o.allow_unenrolled = true;
    else if (a == "--allow-sshd-warnings" && with_user) o.allow_sshd_warnings = true;
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

// Runs argv with our stdin, stdout and stderr and our environment plus
// `extra` (NAME=VALUE, replacing ours); its exit status, or -1.
int run_program(const std::vector<std::string>& argv, const std::vector<std::string>& extra) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto replaced = [&](const std::string& x) { return entry.starts_with(x.substr(0, x.find('=') + 1)); };
    if (std::none_of(extra.begin(), extra.end(), replaced)) env.push_back(*e);
  }
  for (const auto& x : extra) env.push_back(const_cast<char*>(x.c_str()));
  env.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), env.data()) != 0) return -1;
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

// Never interactive: asked about locally modified common-* files,
// pam-auth-update would offer to overwrite them (dropping lines added by
// hand); noninteractive, it leaves them alone and says so. With --root, its
// debconf answers stay under DIR unless the caller chose a database.
int pam_auth_update(const Options& o, const char* action) {
  std::vector<std::string> argv = {kPamAuthUpdate};
  std::vector<std::string> env = {"DEBIAN_FRONTEND=noninteractive"};
  if (!o.root.empty()) {
    argv.insert(argv.end(), {"--root", o.root});
    if (std::getenv("DEBCONF_DB_REPLACE") == nullptr)
      env.push_back("DEBCONF_DB_REPLACE=File{" + o.root + "/var/cache/debconf/pam-otp-config.dat}");
  }
  argv.insert(argv.end(), {action, kProfile});
  return run_program(argv, env);
}

// The configuration the profile's logins will read, checked as `pam-otp
// check` does, sshd as if common-auth had pam_otp already; nullptr (after
// saying why) when enabling would be unsafe.
std::unique_ptr<config::Loaded> safe_configuration(const Options& o, std::ostream& out, std::ostream& err) {
  Problems problems;
  SshdPaths sshd;
  if (!o.root.empty()) {
    sshd.sshd_config = o.root + sshd.sshd_config;
    sshd.pam_dir = o.root + sshd.pam_dir;
    sshd.check_modules = false;
    out << "With --root, pam_otp.so and its HTTP plugin under " << o.root << " are not checked\n";
    if (!std::filesystem::exists(sshd.sshd_config)) {
      out << "No " << sshd.sshd_config << ": sshd's settings not checked\n";
      sshd.sshd.clear();
    }
  }
  auto loaded = check_configuration({}, false, sshd, problems, "common-auth");
  report_check(problems, {}, loaded.get(), out);
  if (problems.has_errors()) {
    err << "pam-otp enable: not enabled: fix the errors above first (pam-otp check)\n";
    return nullptr;
  }
  const auto about_sshd = [&](bool setting) {
    return std::any_of(problems.list().begin(), problems.list().end(), [&](const Problem& p) {
      return p.file == sshd.sshd_config && p.key.empty() != setting;
    });
  };
  if (about_sshd(true) && !o.allow_sshd_warnings) {
    err << "pam-otp enable: not enabled: once common-auth asks for a code, sshd's settings above break its "
        << "logins (see " << sshd.sshd_config << "; the examples have sshd_config.d/pam_otp-password.conf). "
        << "Fix them, or pass --allow-sshd-warnings if nobody logs in to sshd that way\n";
    return nullptr;
  }
  if (about_sshd(false) && !o.allow_sshd_warnings) {
    err << "pam-otp enable: not enabled: sshd's PAM stack includes common-auth, and its settings could not be "
        << "checked (see above). Fix that, or pass --allow-sshd-warnings if nobody logs in to sshd with a "
        << "password\n";
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

// Local accounts that can log in (root, and uid 1000 and up, with a login
// shell) and would be refused by every login that includes common-auth.
std::vector<std::string> refused_accounts(const config::Loaded& loaded) {
  std::vector<std::string> refused;
  flow::SystemUserDirectory directory;
  ::setpwent();
  for (int n = 0; n < 10000; ++n) {
    const passwd* pw = ::getpwent();
    if (pw == nullptr) break;
    const std::string shell = pw->pw_shell != nullptr ? pw->pw_shell : "";
    const bool login_shell = !shell.empty() && !shell.ends_with("/nologin") && !shell.ends_with("/false");
    if ((pw->pw_uid != 0 && (pw->pw_uid < 1000 || pw->pw_uid == 65534)) || !login_shell) continue;
    flow::LoginRequest request;
    request.user = pw->pw_name;
    request.service = "login";
    if (flow::explain(loaded, request, directory, directory::lookup).refused) refused.push_back(request.user);
  }
  ::endpwent();
  return refused;
}

bool nobody_refused(const config::Loaded& loaded, const Options& o, std::ostream& err) {
  const auto refused = refused_accounts(loaded);
  if (refused.empty() || o.allow_unenrolled) return true;
  std::string names;
  for (const auto& name : refused) names += (names.empty() ? "" : ", ") + name;
  err << "pam-otp enable: not enabled: these accounts could not log in any more (no destination in "
      << loaded.config.users_file << ", unenrolled = \"deny\"): " << names << ". Give them a destination, "
      << "exempt them (exempt_groups), set unenrolled = \"allow\", or pass --allow-unenrolled if that is "
      << "what you want\n";
  return false;
}

// --user, else whoever became root: sudo's and doas's invoking user, else
// the login user the kernel keeps for this session.
std::optional<std::string> administrator(const Options& o, std::ostream& err) {
  if (!o.user.empty()) return o.user;
  for (const char* name : {"SUDO_USER", "DOAS_USER"})
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') return std::string(value);
  std::ifstream loginuid("/proc/self/loginuid");
  long uid = -1;
  if (loginuid >> uid && uid >= 0 && uid != 4294967295L)
    if (const passwd* pw = ::getpwuid(static_cast<uid_t>(uid))) return std::string(pw->pw_name);
  err << "pam-otp enable: not enabled: no administrator to test: run it through sudo as yourself, or name "
      << "the administrator with --user NAME\n";
  return std::nullopt;
}

// Says where USER's code would go; false when USER would not be asked for one.
bool would_get_code(const config::Loaded& loaded, const flow::LoginRequest& request, std::ostream& out,
                    std::ostream& err) {
  flow::SystemUserDirectory directory;
  const auto e = flow::explain(loaded, request, directory, directory::lookup);
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
  // Only a code the provider verified proves that codes reach the user: no
  // recovery code is taken here (nor used up), whatever the configuration
  // says, and an unavailable provider is no pass either.
  config::Loaded proof = loaded;
  proof.config.recovery = config::RecoveryUse::Off;
  if (proof.config.failmode != config::FailMode::Secure) proof.config.failmode = config::FailMode::Secure;
  const flow::AuthResult result = terminal_login(proof, request, out);
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

// The arguments of enable (`enabling`) or disable; an exit status when they
// already end the command (a usage error, --help).
std::optional<int> read_arguments(const std::vector<std::string>& args, bool enabling, Options& o, std::ostream& out,
                                  std::ostream& err) {
  const char* usage = enabling ? kEnableUsage : kDisableUsage;
  if (!parse(args, enabling, o, enabling ? "enable" : "disable", err)) {
    err << usage;
    return kExitUsage;
  }
  if (o.help) {
    out << usage;
    return kExitOk;
  }
  return std::nullopt;
}

}  // namespace

int run_enable(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (const auto done = read_arguments(args, true, o, out, err)) return *done;
  if (!is_root_with_profile(o, "enable", err)) return kExitFailed;
  if (common_auth_loads_otp(o.root)) {
    out << o.root << "/etc/pam.d/common-auth already loads pam_otp (pam-otp disable takes it out)\n";
    return kExitOk;
  }
  const auto loaded = safe_configuration(o, out, err);
  if (!loaded || !nobody_refused(*loaded, o, err)) return kExitFailed;
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
  if (const auto done = read_arguments(args, false, o, out, err)) return *done;
  if (!is_root_with_profile(o, "disable", err)) return kExitFailed;
  const int status = pam_auth_update(o, "--disable");
  const bool still = common_auth_loads_otp(o.root);
  if (status != 0 || still) {
    err << "pam-otp disable: "
        << (status != 0 ? "pam-auth-update failed (see above)" : "")
        << (status != 0 && still ? "; " : "")
        << (still ? o.root + "/etc/pam.d/common-auth still loads pam_otp (a line added by hand, or local "
                             "modifications pam-auth-update left alone? remove it yourself)" : "")
        << "\n";
    return kExitFailed;
  }
  out << "pam_otp is out of " << o.root << "/etc/pam.d/common-auth.\n";
  const auto others = pam_otp_lines(o.root);
  for (const auto& where : others) out << "  still loaded by " << where << " (added by hand: disable leaves it)\n";
  return kExitOk;
}

}  // namespace otp::cli
