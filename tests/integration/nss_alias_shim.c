/* An NSS backend that knows several spellings of one account, as SSSD, AD
 * and winbind do ("ALICE", "alice@corp.example", "CORP\alice" are alice):
 * getpwnam_r and getpwnam of an alias return the canonical entry, whose
 * pw_name differs from the name asked for. nss_wrapper cannot alias, so the
 * tests preload this in front of it and name the aliases in the environment:
 *
 *   PAM_OTP_TEST_NSS_ALIASES="ALICE=alice;alice@corp.example=alice"
 *
 * Without the variable every call goes through unchanged.
 *
 * It can also fail group lookups as a directory that is down does:
 * PAM_OTP_TEST_NSS_BROKEN_GROUPS="broken" makes getgrnam_r and getgrgid_r
 * of that group (by name, or by the gid the next backend gives it) return
 * EIO. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

/* The canonical name for `name` from the alias list, copied into out;
 * `name` itself when it is no alias. */
static const char* canonical(const char* name, char* out, size_t size) {
  const char* list = getenv("PAM_OTP_TEST_NSS_ALIASES");
  size_t len = strlen(name);
  while (list != NULL && *list != '\0') {
    const char* end = strchr(list, ';');
    const char* eq = strchr(list, '=');
    if (end == NULL) end = list + strlen(list);
    if (eq != NULL && eq < end && (size_t)(eq - list) == len && strncmp(list, name, len) == 0 &&
        (size_t)(end - eq - 1) < size) {
      memcpy(out, eq + 1, (size_t)(end - eq - 1));
      out[end - eq - 1] = '\0';
      return out;
    }
    list = *end == ';' ? end + 1 : end;
  }
  return name;
}

int getpwnam_r(const char* name, struct passwd* pw, char* buf, size_t len, struct passwd** result) {
  typedef int (*fn)(const char*, struct passwd*, char*, size_t, struct passwd**);
  char target[256];
  return ((fn)dlsym(RTLD_NEXT, "getpwnam_r"))(canonical(name, target, sizeof target), pw, buf, len, result);
}

struct passwd* getpwnam(const char* name) {
  typedef struct passwd* (*fn)(const char*);
  char target[256];
  return ((fn)dlsym(RTLD_NEXT, "getpwnam"))(canonical(name, target, sizeof target));
}

/* Is `name` one of the ';'-separated names in PAM_OTP_TEST_NSS_BROKEN_GROUPS? */
static int broken_group(const char* name) {
  const char* list = getenv("PAM_OTP_TEST_NSS_BROKEN_GROUPS");
  size_t len = strlen(name);
  while (list != NULL && *list != '\0') {
    const char* end = strchr(list, ';');
    if (end == NULL) end = list + strlen(list);
    if ((size_t)(end - list) == len && strncmp(list, name, len) == 0) return 1;
    list = *end == ';' ? end + 1 : end;
  }
  return 0;
}

int getgrnam_r(const char* name, struct group* gr, char* buf, size_t len, struct group** result) {
  typedef int (*fn)(const char*, struct group*, char*, size_t, struct group**);
  *result = NULL;
  if (broken_group(name)) return EIO;
  return ((fn)dlsym(RTLD_NEXT, "getgrnam_r"))(name, gr, buf, len, result);
}

int getgrgid_r(gid_t gid, struct group* gr, char* buf, size_t len, struct group** result) {
  typedef int (*fn)(gid_t, struct group*, char*, size_t, struct group**);
  int rc = ((fn)dlsym(RTLD_NEXT, "getgrgid_r"))(gid, gr, buf, len, result);
  if (rc == 0 && *result != NULL && broken_group((*result)->gr_name)) {
    *result = NULL;
    return EIO;
  }
  return rc;
}
