// The system's user and group database (getpwnam_r, getgrouplist,
// getgrnam_r), behind an interface so that scope rules are tested with a
// fake directory.
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

// A group named in the configuration, as the system answered for it.
struct GroupLookup {
  enum class Status {
    Found,
    Missing,  // the database says there is no such group
    Error,    // the database could not answer (a directory that is down, ...)
  };
  Status status = Status::Error;
  gid_t gid = 0;
  std::vector<std::string> members;  // the entry's member list (Found)
  std::string error;                 // why not (Error)
};

class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  virtual std::optional<UserInfo> find_user(const std::string& name) = 0;
  // The gids of the user's primary and supplementary groups; nullopt when
  // they cannot be listed.
  virtual std::optional<std::vector<gid_t>> group_ids(const UserInfo& user) = 0;
  virtual GroupLookup find_group(const std::string& name) = 0;
};

// Is the user in the group? By gid (primary, or in group_ids) or by the
// group's member list: nullopt when the group could not be found or read,
// or the user is not in its list and their groups could not be listed
// (lookup says why), which no scope rule may take as "not a member".
std::optional<bool> is_member(UserDirectory& directory, const UserInfo& user,
                              const std::optional<std::vector<gid_t>>& gids, const std::string& group,
                              GroupLookup& lookup);

class SystemUserDirectory final : public UserDirectory {
 public:
  std::optional<UserInfo> find_user(const std::string& name) override;
  std::optional<std::vector<gid_t>> group_ids(const UserInfo& user) override;
  GroupLookup find_group(const std::string& name) override;
};

}  // namespace otp::flow
