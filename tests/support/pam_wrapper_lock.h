// pam_wrapper keeps its copy of the PAM configuration in /tmp/pam.X, X a
// letter it derives from the pid, and checks that the directory is free
// before creating it without any lock. Two processes starting PAM at the
// same moment can pick the same letter (pids 10 to 17 apart modulo 70 all
// land on 'A'): they share the directory, and the first to exit deletes it
// under the other, whose pam_start then fails without a word. Each
// pam_start of the tests and benchmarks holds this lock, so that one process
// at a time goes through pam_wrapper's set-up (once per process).
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace otp::testing {

class PamWrapperSetupLock {
 public:
  PamWrapperSetupLock() : fd_(::open("/tmp/.pam_otp-pam_wrapper.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  PamWrapperSetupLock(const PamWrapperSetupLock&) = delete;
  PamWrapperSetupLock& operator=(const PamWrapperSetupLock&) = delete;
  ~PamWrapperSetupLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  int fd_;
};

}  // namespace otp::testing
