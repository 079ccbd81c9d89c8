// The pam-otp subcommands. Each returns the process exit status:
// 0 success, 1 failure (problems found, login failed), 2 usage error.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/sshd_check.h"
#include "config/loader.h"
#include "flow/login.h"

namespace otp::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Options every subcommand takes: the config file and module arguments.
struct CommonOptions {
  std::vector<std::string> module_args;  // config=PATH first when --config was given
  bool help = false;
};

int run_check(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_show(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_test(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_try_out(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_enable(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_disable(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_recovery(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_state(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Shared argument handling: takes --config PATH, --arg KEY=VALUE and --help
// out of args; returns false (after a message) on a usage error.
bool take_common_options(std::vector<std::string>& args, CommonOptions& options, std::ostream& err);

// Everything `pam-otp check` checks (offline: no base_url is contacted;
// sshd_stand_in: see check_sshd); returns the configuration when it loads.
std::unique_ptr<config::Loaded> check_configuration(const std::vector<std::string>& module_args, bool offline,
                                                    const SshdPaths& sshd, Problems& problems,
                                                    const std::string& sshd_stand_in = "");

// Lists the problems and a summary line ("pam-otp check: PATH: OK ...").
void report_check(const Problems& problems, const std::vector<std::string>& module_args,
                  const config::Loaded* loaded, std::ostream& out);

// pam-otp test's login on this terminal, every exchange logged to out.
flow::AuthResult terminal_login(const config::Loaded& loaded, const flow::LoginRequest& request, std::ostream& out);

// Loads the configuration as a login would; on errors lists them on err
// and returns nullptr.
std::unique_ptr<config::Loaded> load_or_report(const std::vector<std::string>& module_args, std::ostream& err);

}  // namespace otp::cli
