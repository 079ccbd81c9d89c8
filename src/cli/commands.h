// The pam-otp subcommands. Each returns the process exit status:
// 0 success, 1 failure (problems found, login failed), 2 usage error.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "config/loader.h"

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

// Shared argument handling: takes --config PATH, --arg KEY=VALUE and --help
// out of args; returns false (after a message) on a usage error.
bool take_common_options(std::vector<std::string>& args, CommonOptions& options, std::ostream& err);

// Loads the configuration as a login would; on errors lists them on err
// and returns nullptr.
std::unique_ptr<config::Loaded> load_or_report(const std::vector<std::string>& module_args, std::ostream& err);

}  // namespace otp::cli
