#include "flow/user_directory.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace otp::flow {
namespace {

// Entries of directory users and groups can be large (a group with
// thousands of members): the buffer grows on ERANGE up to this much.
constexpr std::size_t kFirstBuffer = 16 * 1024;
constexpr std::size_t kMaxBuffer = 16 * 1024 * 1024;

// Calls lookup(buffer) (a getXXnam_r) with a buffer that grows while it
// says ERANGE; its error number (0: answered, found or not).
template <typename Lookup>
int with_growing_buffer(std::vector<char>& buffer, Lookup lookup) {
  for (std::size_t size = kFirstBuffer;; size *= 2) {
    buffer.assign(size, '\0');
    errno = 0;
    int rc = lookup(buffer);
    if (rc < 0) rc = errno != 0 ? errno : EIO;  // some NSS layers (nss_wrapper) return -1 and set errno
    if (rc != ERANGE || size >= kMaxBuffer) return rc;
  }
}

}  // namespace

std::optional<UserInfo> SystemUserDirectory::find_user(const std::string& name) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf;
  const int rc = with_growing_buffer(buf, [&](std::vector<char>& b) {
    return getpwnam_r(name.c_str(), &pw, b.data(), b.size(), &found);
  });
  if (rc != 0 || found == nullptr) return std::nullopt;
  return UserInfo{found->pw_name, found->pw_uid, found->pw_gid};
}

std::optional<std::vector<gid_t>> SystemUserDirectory::group_ids(const UserInfo& user) {
  int count = 64;
  std::vector<gid_t> gids(static_cast<std::size_t>(count));
  // Too small: getgrouplist says how many there are; they may grow between
  // calls. (It cannot say that an NSS source failed: the member lists of the
  // groups named in the configuration are looked at too.)
  for (int tries = 0; getgrouplist(user.name.c_str(), user.gid, gids.data(), &count) < 0; ++tries) {
    if (tries == 3 || count <= static_cast<int>(gids.size())) return std::nullopt;
    gids.resize(static_cast<std::size_t>(count));
  }
  gids.resize(static_cast<std::size_t>(count));
  return gids;
}

GroupLookup SystemUserDirectory::find_group(const std::string& name) {
  struct group gr {};
  struct group* found = nullptr;
  std::vector<char> buf;
  const int rc = with_growing_buffer(buf, [&](std::vector<char>& b) {
    return getgrnam_r(name.c_str(), &gr, b.data(), b.size(), &found);
  });
  GroupLookup lookup;
  // Not found is 0 and no entry in glibc; some NSS layers say ENOENT or ESRCH.
  if (rc == ENOENT || rc == ESRCH) found = nullptr;
  else if (rc != 0) {
    lookup.error = rc == ERANGE ? "its entry is larger than 16 MiB" : std::strerror(rc);
    return lookup;
  }
  if (found == nullptr) {
    lookup.status = GroupLookup::Status::Missing;
    return lookup;
  }
  lookup.status = GroupLookup::Status::Found;
  lookup.gid = found->gr_gid;
  for (char** m = found->gr_mem; m != nullptr && *m != nullptr; ++m) lookup.members.emplace_back(*m);
  return lookup;
}

std::optional<bool> is_member(UserDirectory& directory, const UserInfo& user,
                              const std::optional<std::vector<gid_t>>& gids, const std::string& group,
                              GroupLookup& lookup) {
  lookup = directory.find_group(group);
  if (lookup.status != GroupLookup::Status::Found) return std::nullopt;
  if (lookup.gid == user.gid || (gids && std::find(gids->begin(), gids->end(), lookup.gid) != gids->end()) ||
      std::find(lookup.members.begin(), lookup.members.end(), user.name) != lookup.members.end())
    return true;
  if (gids) return false;
  lookup.status = GroupLookup::Status::Error;
  lookup.error = "the user's groups cannot be listed";
  return std::nullopt;
}

}  // namespace otp::flow
