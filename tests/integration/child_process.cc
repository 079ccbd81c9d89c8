#include "child_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "temp_dir.h"

extern char** environ;

namespace otp::testing {

std::vector<std::string> nss_only_environment() {
  // This process's preloads but pam_wrapper (nss_wrapper, and the NSS shim in
  // front of it when it is there), or nss_wrapper alone.
  std::string preload;
  const char* ours = std::getenv("LD_PRELOAD");
  for (std::string_view rest = ours != nullptr ? ours : ""; !rest.empty();) {
    const auto end = std::min(rest.find(':'), rest.size());
    const std::string_view lib = rest.substr(0, end);
    if (!lib.empty() && lib.find("pam_wrapper") == std::string_view::npos)
      preload.append(preload.empty() ? "" : ":").append(lib);
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  std::vector<std::string> env{"LD_PRELOAD=" + (preload.empty() ? std::string(PAM_OTP_NSS_WRAPPER_LIB) : preload)};
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var = *e;
    if (var.rfind("LD_PRELOAD=", 0) != 0 && var.rfind("PAM_WRAPPER", 0) != 0) env.push_back(var);
  }
  return env;
}

pid_t spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const std::string& in, const std::string& out) {
  std::vector<char*> a, e;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  e.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!in.empty()) posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  if (!out.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, a[0], &actions, nullptr, a.data(), e.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

CommandResult run_pam_otp(const std::string& args, const std::vector<std::string>& more, const std::string& input,
                          const std::vector<std::string>& env) {
  TempDir scratch;
  std::vector<std::string> argv{PAM_OTP_CLI_PATH};
  for (std::size_t pos = 0; pos < args.size();) {
    const auto end = std::min(args.find(' ', pos), args.size());
    if (end > pos) argv.push_back(args.substr(pos, end - pos));
    pos = end + 1;
  }
  argv.insert(argv.end(), more.begin(), more.end());
  const std::string out = scratch.path() + "/out";
  std::vector<std::string> environment = nss_only_environment();
  environment.insert(environment.end(), env.begin(), env.end());
  const pid_t pid = spawn_process(argv, environment, scratch.write("stdin", input), out);
  CommandResult r;
  int status = 0;
  if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) r.status = WEXITSTATUS(status);
  r.output = read_file(out);
  return r;
}

}  // namespace otp::testing
