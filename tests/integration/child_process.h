// Programs the integration tests start (pam-otp, otp-login) as separate
// processes: real libpam without pam_wrapper, users from nss_wrapper.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace otp::testing {

// This process's environment without pam_wrapper: nss_wrapper (and the NSS
// shim in front of it) preloaded.
std::vector<std::string> nss_only_environment();

// Starts argv[0] with exactly ENV. Standard input from IN and standard
// output, and standard error with it, to OUT (created) when they are not
// empty. The pid, or -1 when it could not start.
pid_t spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const std::string& in, const std::string& out);

struct CommandResult {
  int status = -1;     // the exit status; -1 when it did not exit
  std::string output;  // standard output and standard error
};

// pam-otp with ARGS (split on spaces) and then MORE (as they are), INPUT on
// standard input, in nss_only_environment() and then ENV (NAME=VALUE): the
// command uses no PAM. Waits for it.
CommandResult run_pam_otp(const std::string& args, const std::vector<std::string>& more = {},
                          const std::string& input = "", const std::vector<std::string>& env = {});

}  // namespace otp::testing
