#include "flow/user_directory.h"

#include <grp.h>
#include <pwd.h>

namespace otp::flow {

std::optional<UserInfo> SystemUserDirectory::find_user(const std::string& name) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
  return UserInfo{found->pw_name, found->pw_uid, found->pw_gid};
}

std::vector<std::string> SystemUserDirectory::group_names(const UserInfo& user) {
  int count = 64;
  std::vector<gid_t> gids(static_cast<std::size_t>(count));
  if (getgrouplist(user.name.c_str(), user.gid, gids.data(), &count) < 0) {
    gids.resize(static_cast<std::size_t>(count));
    if (getgrouplist(user.name.c_str(), user.gid, gids.data(), &count) < 0) count = 0;
  }
  gids.resize(static_cast<std::size_t>(count));
  std::vector<std::string> names;
  std::vector<char> buf(16384);
  for (gid_t gid : gids) {
    struct group gr {};
    struct group* found = nullptr;
    if (getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr) names.emplace_back(found->gr_name);
  }
  return names;
}

bool SystemUserDirectory::group_exists(const std::string& name) {
  struct group gr {};
  struct group* found = nullptr;
  std::vector<char> buf(16384);
  return getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr;
}

}  // namespace otp::flow
