// A private directory for one test, removed afterwards, and files in it
// with the modes pam_otp insists on.
#pragma once

#include <sys/types.h>

#include <string>

namespace otp::testing {

class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes dir/name with the given mode and returns its full path.
  std::string write(const std::string& name, const std::string& content, mode_t mode = 0600) const;

 private:
  std::string path_;
};

std::string read_file(const std::string& path);

}  // namespace otp::testing
