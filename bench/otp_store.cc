// otp-store: what the state store alone costs a login, measured in fresh
// processes as logins are: each child opens the state file, reads the hash
// key, counts one send (the default send limit, a user of its own) and
// closes, as a default login does before it sends a code. With --empty the
// child does nothing, for the cost of the process itself.
//
//   otp-store STATE_FILE COUNT [--empty]
//
// Prints one line: "store <wall us> <cpu us> <peak RSS growth KiB>", each
// the median over COUNT children (wall: open to close, in the child; CPU:
// the child's user + system time from wait4; RSS: the child's VmHWM at the
// end minus at its start). bench/run subtracts the --empty line.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "store/sqlite_store.h"

namespace {

long peak_kib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  long kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::sscanf(line, "VmHWM: %ld", &kib) == 1) break;
  std::fclose(f);
  return kib;
}

// The child: what one login does with the store, timed.
[[noreturn]] void child(const std::string& path, bool empty, int out) {
  const long rss_before = peak_kib();
  const auto start = std::chrono::steady_clock::now();
  if (!empty) {
    try {
      auto store = otp::store::open_sqlite_store(path);
      store->hash_key();
      const std::string user = "store-bench-" + std::to_string(getpid()) + "-" + std::to_string(std::time(nullptr));
      if (store->take({{"send_user", user, 5, 3600}}, std::time(nullptr))) _exit(2);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "otp-store: %s\n", e.what());
      _exit(1);
    }
  }
  const long result[2] = {
      static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count()),
      peak_kib() - rss_before};
  if (write(out, result, sizeof result) != sizeof result) _exit(1);
  _exit(0);
}

long median(std::vector<long> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: otp-store STATE_FILE COUNT [--empty]\n");
    return 2;
  }
  const std::string path = argv[1];
  const int count = std::atoi(argv[2]);
  const bool empty = argc > 3 && std::strcmp(argv[3], "--empty") == 0;
  std::vector<long> wall, cpu, rss;
  for (int i = 0; i < count; ++i) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      close(fds[0]);
      child(path, empty, fds[1]);
    }
    close(fds[1]);
    long result[2] = {0, 0};
    const bool got = read(fds[0], result, sizeof result) == sizeof result;
    close(fds[0]);
    int status = 0;
    rusage usage{};
    if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !got) {
      std::fprintf(stderr, "otp-store: a child failed (status %d)\n", status);
      return 1;
    }
    wall.push_back(result[0]);
    rss.push_back(result[1]);
    cpu.push_back((usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000L + usage.ru_utime.tv_usec +
                  usage.ru_stime.tv_usec);
  }
  std::printf("store %ld %ld %ld\n", median(wall), median(cpu), median(rss));
  return 0;
}
