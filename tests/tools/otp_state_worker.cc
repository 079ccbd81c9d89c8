// otp-state-worker: a process of its own on the state file, for the
// integration tests of the store under concurrency and SIGKILL (separate
// programs, not forks: a fork of the test inherits its threads' memory,
// which valgrind then reports when the fork exits).
//
//   otp-state-worker use STATE_FILE USER CODE_ID GO_FILE
//       waits until GO_FILE exists, then tries to use the recovery code;
//       exit 0 when this process used it, 1 when another had, 2 on error
//   otp-state-worker take STATE_FILE
//       counts sends (two rows per transaction) until killed; exit 2 on error
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "store/sqlite_store.h"

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "use" && argc == 6) {
      auto store = otp::store::open_sqlite_store(argv[2]);
      const auto batch = store->recovery_codes(argv[3]);
      std::string hash;
      for (const auto& code : batch ? batch->codes : std::vector<otp::store::RecoveryCode>{})
        if (code.id == std::atoll(argv[4])) hash = code.hash;
      while (::access(argv[5], F_OK) != 0) ::usleep(500);
      return store->use_recovery_code(argv[3], std::atoll(argv[4]), hash, std::time(nullptr), "race") ? 0 : 1;
    }
    if (command == "take" && argc == 3) {
      auto store = otp::store::open_sqlite_store(argv[2]);
      for (std::int64_t t = 0;; ++t)
        store->take({{"send_user", "alice", 1 << 30, 86400}, {"send_rhost", "r", 1 << 30, 86400}}, 1'800'000'000 + t);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "otp-state-worker: %s\n", e.what());
    return 2;
  }
  std::fprintf(stderr, "usage: otp-state-worker use STATE_FILE USER CODE_ID GO_FILE | take STATE_FILE\n");
  return 2;
}
