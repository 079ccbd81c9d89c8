// The system's user and group database (getpwnam, getgrouplist), behind an
// interface so that scope rules are tested with a fake directory.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace otp::flow {

struct UserInfo {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  virtual std::optional<UserInfo> find_user(const std::string& name) = 0;
  // Names of the user's primary and supplementary groups.
  virtual std::vector<std::string> group_names(const UserInfo& user) = 0;
  // Does a group of that name exist?
  virtual bool group_exists(const std::string& name) = 0;
};

class SystemUserDirectory final : public UserDirectory {
 public:
  std::optional<UserInfo> find_user(const std::string& name) override;
  std::vector<std::string> group_names(const UserInfo& user) override;
  bool group_exists(const std::string& name) override;
};

}  // namespace otp::flow
