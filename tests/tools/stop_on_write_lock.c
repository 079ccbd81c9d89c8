/* A fault injector for the state file: preloaded into a login, it stops the
 * process (SIGSTOP, as su's caller may send it) right after the process
 * takes SQLite's WAL write lock (byte 120 of the database's -shm file, the
 * lock BEGIN IMMEDIATE takes), so that it holds the lock while stopped.
 * Only when PAM_OTP_TEST_STOP_ON_WRITE_LOCK is set, and only once. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int is_shm(int fd) {
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 4) return 0;
  target[n] = '\0';
  return strcmp(target + n - 4, "-shm") == 0;
}

static int after(int rc, int fd, int cmd, void* arg) {
  if (rc != 0 || (cmd != F_SETLK && cmd != F_SETLKW && cmd != F_OFD_SETLK && cmd != F_OFD_SETLKW)) return rc;
  const struct flock* lock = arg;
  if (lock == NULL || lock->l_type != F_WRLCK || lock->l_start != 120 || lock->l_len != 1) return rc;
  if (getenv("PAM_OTP_TEST_STOP_ON_WRITE_LOCK") == NULL || !is_shm(fd)) return rc;
  unsetenv("PAM_OTP_TEST_STOP_ON_WRITE_LOCK");
  raise(SIGSTOP);
  return rc;
}

#define FORWARD(name)                                               \
  int name(int fd, int cmd, ...) {                                  \
    typedef int (*fn)(int, int, void*);                             \
    va_list ap;                                                     \
    va_start(ap, cmd);                                              \
    void* arg = va_arg(ap, void*);                                  \
    va_end(ap);                                                     \
    const int rc = ((fn)dlsym(RTLD_NEXT, #name))(fd, cmd, arg);     \
    return after(rc, fd, cmd, arg);                                 \
  }

FORWARD(fcntl)
FORWARD(fcntl64)
