// pam-otp: check, show and try pam_otp's configuration with the module's own
// code, and enable it safely.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

using Run = int (*)(const std::vector<std::string>&, std::ostream&, std::ostream&);

struct Command {
  const char* name;
  const char* summary;  // synopsis line(s), then what it does
  Run run;
};

// Every command, in the order of `pam-otp --help`.
constexpr Command kCommands[] = {
    {"check", R"(check [--config PATH] [--offline]
                 validate the config, secrets and users files: syntax, types,
                 owners and modes, networks, groups, phone numbers, the preset's
                 keys, and that each base_url answers over TLS; lists every
                 problem with its file and line)",
     otp::cli::run_check},
    {"show", R"(show [--config PATH]
                 print the effective configuration (defaults, preset, secrets
                 file and arguments applied), secrets redacted)",
     otp::cli::run_show},
    {"test", R"(test USER [--config PATH] [--channel C] [--service NAME] [--rhost ADDR]
            [--ruser NAME] [--explain]
                 run the whole login for USER on this terminal (send, prompt,
                 verify) with the module's own code, printing each step;
                 --explain only says whether USER would be asked for a code,
                 and where it would go, without sending anything)",
     otp::cli::run_test},
    {"try-out", R"(try-out [--port N] [--dir DIR] [--server PATH]
                 serve a stand-in provider on 127.0.0.1:8443, the one the
                 shipped config describes, printing the codes it "sends", to
                 try check and test before a real provider is configured)",
     otp::cli::run_try_out},
    {"enable", R"(enable [--user NAME] [--allow-unenrolled] [--allow-sshd-warnings]
              [--root DIR]
                 add pam_otp to common-auth (pam-auth-update), only after check
                 passes, sshd's settings suit it, no local account would be
                 refused, and a test of NAME (default SUDO_USER) has succeeded)",
     otp::cli::run_enable},
    {"disable", R"(disable [--root DIR]
                 take pam_otp out of common-auth again)",
     otp::cli::run_disable},
    {"recovery", R"(recovery issue|list|revoke USER [--count N]
                 one-time recovery codes for a lost phone or a provider
                 outage: print N new ones (only hashes are kept), list what
                 is left, remove them)",
     otp::cli::run_recovery},
    {"state", R"(state list [USER] | state forget USER | state init | state migrate
                 the remembered logins and send counters in state_file or
                 the shared store; forget clears a user's; init makes the
                 shared store's schema, migrate copies this host's file
                 into it)",
     otp::cli::run_state},
};

std::string usage() {
  std::string text = "Usage: pam-otp COMMAND [OPTIONS]\n\nCheck and try pam_otp's configuration before you change a "
                     "PAM file.\n\nCommands:\n";
  for (const auto& c : kCommands) text += std::string("  ") + c.summary + "\n";
  return text + R"(
Options of check, show, test, recovery and state:
  --config PATH     the config file (default /etc/security/pam_otp.conf)
  --arg KEY=VALUE   a module argument, as in /etc/pam.d (repeatable)
Options of recovery and state, for a shared store (state_store):
  --store URI           act as the role URI names (an administrator's),
                        not the configured login role
  --password-file FILE  its password (the first line; root's, mode 0600)
Options of every command:
  -h, --help        help for the command
  --version         print the version

Exit status: 0 success, 1 problems found or login failed, 2 usage error.
See pam-otp(1), pam_otp(8) and pam_otp.conf(5).
)";
}

}  // namespace

int main(int argc, char** argv) {
  // pam-otp reads the config (API keys) and codes as root: no core dump may
  // ever hold them, and no other process of the user may ptrace it.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << usage();
    return otp::cli::kExitUsage;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << usage();
    return otp::cli::kExitOk;
  }
  if (command == "--version") {
    std::cout << "pam-otp " << PAM_OTP_VERSION << "\n";
    return otp::cli::kExitOk;
  }
  for (const auto& c : kCommands) {
    if (command != c.name) continue;
    try {
      return c.run(args, std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "pam-otp: internal error: " << e.what() << "\n";
      return otp::cli::kExitFailed;
    }
  }
  std::cerr << "pam-otp: unknown command '" << command << "'\n\n" << usage();
  return otp::cli::kExitUsage;
}
