#include "cli/sshd_check.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "base/text.h"

extern char** environ;

namespace otp::cli {
namespace {

// A PAM config line split into words; a control in brackets is one word.
std::vector<std::string> pam_words(const std::string& line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    const std::size_t start = i;
    if (line[i] == '[') {
      while (i < line.size() && line[i] != ']') ++i;
      if (i < line.size()) ++i;
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    }
    words.push_back(line.substr(start, i - start));
  }
  return words;
}

bool is_pam_otp(const std::string& module) {
  const auto slash = module.rfind('/');
  return module.substr(slash == std::string::npos ? 0 : slash + 1) == "pam_otp.so";
}

// Walks the auth lines of one service file; `seen_auth` tells whether an
// auth module came before. An include of `stand_in` (a file name) counts
// as a pam_otp line after the password, where `pam-otp enable` will put one.
std::optional<PamOtpLine> walk(const std::string& dir, const std::string& name, bool& seen_auth, int depth,
                               const std::string& stand_in) {
  if (depth > 8 || name.empty()) return std::nullopt;
  const std::string path = name[0] == '/' ? name : dir + "/" + name;
  std::ifstream in(path);
  std::string text;
  for (int number = 1; std::getline(in, text); ++number) {
    text = std::string(trim(text.substr(0, text.find('#'))));
    const auto words = pam_words(text);
    if (words.empty()) continue;
    const auto included = [&](const std::string& file) -> std::optional<PamOtpLine> {
      if (!stand_in.empty() && file == stand_in) return PamOtpLine{path, number, "", true, "pam_otp.so"};
      return walk(dir, file, seen_auth, depth + 1, stand_in);
    };
    if (words[0] == "@include" && words.size() > 1) {
      if (auto found = included(words[1])) return found;
      continue;
    }
    std::string type = words[0];
    if (!type.empty() && type[0] == '-') type.erase(0, 1);
    if (type != "auth" || words.size() < 3) continue;
    if (words[1] == "include" || words[1] == "substack") {
      if (auto found = included(words[2])) return found;
      continue;
    }
    if (is_pam_otp(words[2])) {
      PamOtpLine line{path, number, "", seen_auth, words[2]};
      for (std::size_t i = 3; i < words.size(); ++i) line.args += (line.args.empty() ? "" : " ") + words[i];
      return line;
    }
    seen_auth = true;
  }
  return std::nullopt;
}

// sshd -T's output as keyword -> value, or the reason it could not be had.
std::optional<std::map<std::string, std::string>> effective_settings(const SshdPaths& paths, std::string& why) {
  int out[2];
  if (pipe(out) != 0) {
    why = std::string("pipe: ") + std::strerror(errno);
    return std::nullopt;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> argv_text = {paths.sshd, "-T", "-f", paths.sshd_config};
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, paths.sshd.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
    if (n > 0) text.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  if (rc != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    why = rc != 0 ? std::string(std::strerror(rc)) : sanitize(text.substr(0, text.find('\n')), 200);
    return std::nullopt;
  }
  std::map<std::string, std::string> settings;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto space = line.find(' ');
    if (space != std::string::npos) settings[to_lower(line.substr(0, space))] = line.substr(space + 1);
  }
  return settings;
}

std::string setting(const std::map<std::string, std::string>& settings, const std::string& key) {
  const auto it = settings.find(key);
  return it == settings.end() ? std::string() : it->second;
}

// Does every list of AuthenticationMethods ("publickey,keyboard-interactive
// password,keyboard-interactive") put publickey before keyboard-interactive?
bool every_list_needs_a_key_first(const std::string& methods) {
  std::istringstream lists(methods);
  bool any = false;
  for (std::string list; lists >> list;) {
    any = true;
    const auto key = list.find("publickey");
    const auto kbd = list.find("keyboard-interactive");
    if (kbd != std::string::npos && (key == std::string::npos || key > kbd)) return false;
  }
  return any && methods != "any";
}

}  // namespace

std::optional<PamOtpLine> find_pam_otp(const std::string& pam_dir, const std::string& service,
                                       const std::string& stand_in) {
  bool seen_auth = false;
  return walk(pam_dir, service, seen_auth, 0, stand_in);
}

namespace {

// Warnings that depend on what the configuration makes of sshd logins.
void check_use(const std::map<std::string, std::string>& settings, const std::string& config_path,
               Problems& problems, const SshdUse& use) {
  // (sshd -T prints prohibit-password by its old name, without-password.)
  std::string permit = setting(settings, "permitrootlogin");
  if (permit == "without-password") permit = "prohibit-password";
  if (use.root_asked && !permit.empty() && permit != "yes" && permit != "no")
    problems.warn(config_path, 0, "PermitRootLogin",
                  "is '" + permit + "': sshd replaces every keyboard-interactive answer of root with its INCORRECT "
                  "marker unless PermitRootLogin is yes, so root's code never reaches pam_otp and root's logins "
                  "through sshd are refused (result=sshd_faked_answer). Set PermitRootLogin yes with "
                  "AuthenticationMethods publickey,keyboard-interactive (a key is still required), or keep root "
                  "out of pam_otp for sshd (exempt_groups, or no line for root in the users file)");
  if (use.rhost_rules && setting(settings, "usedns") == "yes")
    problems.warn(config_path, 0, "UseDNS",
                  "is 'yes': PAM_RHOST is then the client's host name, which whoever controls the client's DNS "
                  "chooses; pam_otp remembers logins only from IP addresses and exempt_networks never matches a "
                  "name. Set UseDNS no");
}

}  // namespace

void check_sshd_settings(const std::map<std::string, std::string>& settings, const PamOtpLine& otp,
                         const std::string& config_path, Problems& problems, const SshdUse& use) {
  check_use(settings, config_path, problems, use);
  const std::string where = otp.file + ":" + std::to_string(otp.line);
  const std::string methods = setting(settings, "authenticationmethods");
  if (setting(settings, "usepam") != "yes")
    problems.warn(config_path, 0, "UsePAM", "is not 'yes': sshd never runs " + where + ", so pam_otp is never asked");
  if (setting(settings, "kbdinteractiveauthentication") != "yes")
    problems.warn(config_path, 0, "KbdInteractiveAuthentication",
                  "is not 'yes': pam_otp's code prompt can only reach ssh users through keyboard-interactive");
  const bool password_method = methods == "any" || methods.find("password") != std::string::npos;
  if (setting(settings, "passwordauthentication") == "yes" && password_method)
    problems.warn(config_path, 0, "PasswordAuthentication",
                  "is 'yes' and " + where + " reaches pam_otp: sshd's password method answers EVERY PAM prompt "
                  "with the password, the code prompt included, so pam_otp refuses those logins (it never sends "
                  "the password to the provider). Set KbdInteractiveAuthentication yes and PasswordAuthentication "
                  "no (see pam_otp-password.conf in the examples), or AuthenticationMethods keyboard-interactive");
  if (otp.after_password) return;
  // Public key + code: pam_otp is the only auth module, sshd checks the key.
  if (!every_list_needs_a_key_first(methods))
    problems.warn(config_path, 0, "AuthenticationMethods",
                  "is '" + methods + "', but " + where + " has no password module before pam_otp (the public key "
                  "+ code recipe): without 'publickey,keyboard-interactive' keyboard-interactive alone reaches it");
  if (otp.args.find("require_ssh_methods") == std::string::npos)
    problems.warn(where, 0, "require_ssh_methods",
                  "the public key + code stack should have require_ssh_methods=[\"publickey\"] on the pam_otp line, "
                  "so that a lost AuthenticationMethods line lets nobody in instead of everyone pam_otp scopes out");
}

void check_sshd(const SshdPaths& paths, Problems& problems, const std::string& stand_in, const SshdUse& use) {
  if (::access(paths.sshd.c_str(), X_OK) != 0) return;
  const auto otp = find_pam_otp(paths.pam_dir, "sshd", stand_in);
  if (!otp) return;
  if (::geteuid() != 0) {
    problems.warn(paths.sshd_config, 0, "", "sshd's PAM stack reaches pam_otp; run pam-otp check as root to check "
                                            "sshd's settings too (sshd -T)");
    return;
  }
  std::string why;
  const auto settings = effective_settings(paths, why);
  if (!settings) {
    // sshd -T wants the directory the ssh service makes when it starts.
    const bool stopped = why.find("privilege separation directory") != std::string::npos;
    problems.warn(paths.sshd_config, 0, "", "cannot read sshd's settings (" + paths.sshd + " -T): " + why +
                                                (stopped ? " (the ssh service is not running: start it, or "
                                                           "mkdir -m 0755 /run/sshd, and check again)"
                                                         : ""));
    return;
  }
  check_sshd_settings(*settings, *otp, paths.sshd_config, problems, use);
}

}  // namespace otp::cli
