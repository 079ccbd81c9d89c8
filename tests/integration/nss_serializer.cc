// nss_wrapper 1.1.12 (Debian 12) is not thread-safe: two threads in its
// getpwnam_r at once can crash inside it (seen in the eight-thread test).
// glibc's own lookups, which the module uses in production, are
// thread-safe, so the tests serialize calls into nss_wrapper and nothing
// else: these definitions in the test executable (exported, so the module
// binds to them) take a lock and forward to the next definition, which is
// nss_wrapper's when it is preloaded.
#include <dlfcn.h>
#include <grp.h>
#include <pwd.h>

#include <mutex>

namespace {

std::recursive_mutex& nss_lock() {
  static std::recursive_mutex lock;
  return lock;
}

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

template <typename Fn, typename... Args>
int forward(const char* name, Args... args) {
  static_assert(sizeof(Fn) == sizeof(void*));
  const std::lock_guard<std::recursive_mutex> guard(nss_lock());
  return next<Fn>(name)(args...);
}

}  // namespace

// Tests are built with hidden visibility; these must be seen by the module.
#define EXPORTED __attribute__((visibility("default")))

extern "C" {

EXPORTED int getpwnam_r(const char* name, passwd* pw, char* buf, size_t len, passwd** result) {
  return forward<decltype(&getpwnam_r)>("getpwnam_r", name, pw, buf, len, result);
}

EXPORTED int getpwuid_r(uid_t uid, passwd* pw, char* buf, size_t len, passwd** result) {
  return forward<decltype(&getpwuid_r)>("getpwuid_r", uid, pw, buf, len, result);
}

EXPORTED int getgrnam_r(const char* name, group* gr, char* buf, size_t len, group** result) {
  return forward<decltype(&getgrnam_r)>("getgrnam_r", name, gr, buf, len, result);
}

EXPORTED int getgrgid_r(gid_t gid, group* gr, char* buf, size_t len, group** result) {
  return forward<decltype(&getgrgid_r)>("getgrgid_r", gid, gr, buf, len, result);
}

EXPORTED int getgrouplist(const char* user, gid_t gid, gid_t* groups, int* count) {
  return forward<decltype(&getgrouplist)>("getgrouplist", user, gid, groups, count);
}

}  // extern "C"
