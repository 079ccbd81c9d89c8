// pam_wrapper keeps its copy of the PAM configuration in /tmp/pam.X, X a
// letter it derives from the pid, and checks that the directory is free
// before creating it without any lock. Two processes starting PAM at the
// same moment can pick the same letter (pids 10 to 17 apart modulo 70 all
// land on 'A'): they share the directory, and the first to exit deletes it
// under the other, whose pam_start then fails without a word. Each
// pam_start of the tests and benchmarks holds this lock, so that one process
// at a time goes through pam_wrapper's set-up (once per process). That
// set-up happens in the first pam_start only if PAM_WRAPPER=1 was not yet
// set when the process started (pam_wrapper's constructor does it otherwise,
// before any lock): see OTP_LOGIN_PAM_WRAPPER in tests/tools/otp_login.cc.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace otp::testing {

class PamWrapperSetupLock {
 public:
  // Read-only is enough for flock, so a lock file another user created
  // serves too; O_CREAT only when it is missing, since fs.protected_regular
  // refuses O_CREAT on another user's file in sticky /tmp.
  PamWrapperSetupLock() : fd_(::open(kPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) {
    if (fd_ < 0 && errno == ENOENT) fd_ = ::open(kPath, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  PamWrapperSetupLock(const PamWrapperSetupLock&) = delete;
  PamWrapperSetupLock& operator=(const PamWrapperSetupLock&) = delete;
  ~PamWrapperSetupLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  static constexpr const char* kPath = "/tmp/.pam_otp-pam_wrapper.lock";
  int fd_;
};

}  // namespace otp::testing
