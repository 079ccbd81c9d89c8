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
//   otp-state-worker pg-take HOST PORT CA_FILE DATABASE PASSWORD_FILE
//       counts sends (two rows per call) in the shared store, as the role
//       pam_otp_login, until killed; exit 2 on error
//   otp-state-worker hold-read-slots STATE_FILE GO_FILE
//       holds every WAL read slot of the file's -shm (as a writer restarting
//       the WAL does for an instant), creates GO_FILE and waits to be killed
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>

#include "store/pg_store.h"
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
    if (command == "hold-read-slots" && argc == 4) {
      auto store = otp::store::open_sqlite_store(argv[2]);  // the -shm made and in use
      store->take({{"send_user", "nobody", 1 << 30, 86400}}, std::time(nullptr));
      const int shm = ::open((std::string(argv[2]) + "-shm").c_str(), O_RDWR | O_CLOEXEC);
      // SQLite's WAL locks: byte 120 + i; the read slots are i = 3 to 7.
      struct flock slots {};
      slots.l_type = F_WRLCK;
      slots.l_whence = SEEK_SET;
      slots.l_start = 123;
      slots.l_len = 5;
      if (shm < 0 || ::fcntl(shm, F_SETLK, &slots) != 0) throw std::runtime_error("cannot lock the read slots");
      ::close(::open(argv[3], O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
      for (;;) ::pause();
    }
    if (command == "pg-take" && argc == 7) {
      std::ifstream password_file(argv[6]);
      std::string password;
      std::getline(password_file, password);
      otp::store::PgConnectOptions o;
      o.target.hosts = {{argv[2], std::atoi(argv[3])}};
      o.target.user = "pam_otp_login";
      o.target.dbname = argv[5];
      o.target.sslrootcert = argv[4];
      o.password = otp::Secret(password);
      auto store = otp::store::open_pg_store(o, std::chrono::hours(1));
      for (std::int64_t t = 0;; ++t)
        store->take({{"send_user", "alice", 1 << 30, 86400}, {"send_rhost", "r", 1 << 30, 86400}}, 1'800'000'000 + t);
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
  std::fprintf(stderr, "usage: otp-state-worker use STATE_FILE USER CODE_ID GO_FILE | take STATE_FILE |"
                       " pg-take HOST PORT CA_FILE DATABASE PASSWORD_FILE | hold-read-slots STATE_FILE GO_FILE\n");
  return 2;
}
