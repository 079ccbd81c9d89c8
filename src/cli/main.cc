// pam-otp: check, show and try pam_otp's configuration with the module's own code.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

constexpr char kUsage[] = R"(Usage: pam-otp COMMAND [OPTIONS]

Check and try pam_otp's configuration before you change a PAM file.

Commands:
  check [--config PATH] [--offline]
                 validate the config, secrets and users files: syntax, types,
                 owners and modes, networks, groups, phone numbers, the preset's
                 keys, and that each base_url answers over TLS; lists every
                 problem with its file and line
  show [--config PATH]
                 print the effective configuration (defaults, preset, secrets
                 file and arguments applied), secrets redacted
  test USER [--config PATH] [--channel C] [--service NAME] [--rhost ADDR]
            [--explain]
                 run the whole login for USER on this terminal (send, prompt,
                 verify) with the module's own code, printing each step;
                 --explain only says whether USER would be asked for a code,
                 and where it would go, without sending anything

Options of every command:
  --config PATH     the config file (default /etc/security/pam_otp.conf)
  --arg KEY=VALUE   a module argument, as in /etc/pam.d (repeatable)
  -h, --help        help for the command
  --version         print the version

Exit status: 0 success, 1 problems found or login failed, 2 usage error.
See pam-otp(1), pam_otp(8) and pam_otp.conf(5).
)";

}  // namespace

int main(int argc, char** argv) {
  // pam-otp reads the config (API keys) and codes as root: no core dump may
  // ever hold them, and no other process of the user may ptrace it.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return otp::cli::kExitUsage;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  try {
    if (command == "-h" || command == "--help" || command == "help") {
      std::cout << kUsage;
      return otp::cli::kExitOk;
    }
    if (command == "--version") {
      std::cout << "pam-otp " << PAM_OTP_VERSION << "\n";
      return otp::cli::kExitOk;
    }
    if (command == "check") return otp::cli::run_check(args, std::cout, std::cerr);
    if (command == "show") return otp::cli::run_show(args, std::cout, std::cerr);
    if (command == "test") return otp::cli::run_test(args, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "pam-otp: internal error: " << e.what() << "\n";
    return otp::cli::kExitFailed;
  }
  std::cerr << "pam-otp: unknown command '" << command << "'\n\n" << kUsage;
  return otp::cli::kExitUsage;
}
