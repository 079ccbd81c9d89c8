/* otp-blackhole-dns: runs a command where DNS never answers.
 *
 *   otp-blackhole-dns NAMESERVERS "SEARCH DOMAINS" -- COMMAND [ARGS...]
 *
 * In new user, mount and network namespaces (root in the new user namespace
 * is root outside, so files keep their owners), with only the loopback
 * interface up: NAMESERVERS UDP sockets on 127.0.0.1, 127.0.0.2, ... port
 * 53 that take every query and never reply, a resolv.conf naming them (and
 * the search domains) bind-mounted over /etc/resolv.conf, and "hosts: files
 * dns" over /etc/nsswitch.conf. Nothing outlives the command: the mounts
 * belong to a mount namespace that dies with it, and a mount namespace made
 * in a new user namespace never propagates mounts back to the machine's.
 *
 * Needs root (or permission to create user namespaces). Exit status: the
 * command's; 125 when the namespaces cannot be set up (the reason on stderr).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char* what) {
  fprintf(stderr, "otp-blackhole-dns: %s: %s\n", what, strerror(errno));
  return 125;
}

static int write_file(const char* path, const char* text) {
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  const ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Maps root (and only root) of the new user namespace to root outside. */
static int map_root(void) {
  if (write_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT) return -1;
  if (write_file("/proc/self/uid_map", "0 0 1\n") != 0) return -1;
  return write_file("/proc/self/gid_map", "0 0 1\n");
}

static int loopback_up(void) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  close(fd);
  return rc;
}

/* A UDP socket on 127.0.0.N:53 that is never read: queries go unanswered. */
static int silent_nameserver(int n) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(53);
  addr.sin_addr.s_addr = htonl(0x7F000000u | (unsigned)n);
  return bind(fd, (struct sockaddr*)&addr, sizeof addr) == 0 ? fd : -1;
}

static int bind_over(const char* dir, const char* name, const char* text, const char* target) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (write_file(path, text) != 0) return -1;
  return mount(path, target, NULL, MS_BIND, NULL);
}

int main(int argc, char** argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: otp-blackhole-dns NAMESERVERS \"SEARCH DOMAINS\" -- COMMAND [ARGS...]\n");
    return 2;
  }
  const int count = atoi(argv[1]);
  if (count < 1 || count > 3) {
    fprintf(stderr, "otp-blackhole-dns: 1 to 3 nameservers (glibc reads no more)\n");
    return 2;
  }
  char dir[] = "/tmp/otp-blackhole-dns.XXXXXX";
  if (mkdtemp(dir) == NULL) return fail("mkdtemp");
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) != 0) return fail("unshare (user, mount, network)");
  if (map_root() != 0) return fail("uid_map");
  if (loopback_up() != 0) return fail("bringing lo up");
  char resolv[512] = "";
  for (int i = 1; i <= count; ++i) {
    if (silent_nameserver(i) < 0) return fail("binding 127.0.0.x:53");
    char line[64];
    snprintf(line, sizeof line, "nameserver 127.0.0.%d\n", i);
    strcat(resolv, line);
  }
  if (argv[2][0] != '\0') {
    strcat(resolv, "search ");
    strncat(resolv, argv[2], sizeof resolv - strlen(resolv) - 2);
    strcat(resolv, "\n");
  }
  if (bind_over(dir, "resolv.conf", resolv, "/etc/resolv.conf") != 0) return fail("mounting resolv.conf");
  if (bind_over(dir, "nsswitch.conf", "hosts: files dns\n", "/etc/nsswitch.conf") != 0)
    return fail("mounting nsswitch.conf");
  const pid_t child = fork();
  if (child < 0) return fail("fork");
  if (child == 0) {
    execvp(argv[4], argv + 4);
    _exit(fail("exec"));
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  /* The files are gone; the mounts die with the namespace. */
  char path[4096];
  snprintf(path, sizeof path, "%s/resolv.conf", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/nsswitch.conf", dir);
  unlink(path);
  rmdir(dir);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
