#include "config/safe_file.h"

#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace otp::config {
namespace {

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string open_error(int err) {
  if (err == ELOOP) return "is a symbolic link; refusing to follow it (O_NOFOLLOW)";
  return std::string("cannot open: ") + std::strerror(err);
}

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The ownership and mode rules every one of our files obeys.
std::optional<std::string> mode_problem(const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  // Root, or the (non-root) user the PAM application itself runs as.
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return "is owned by uid " + std::to_string(st.st_uid) + "; it must be owned by root";
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return "is writable by group or others (mode " + octal_mode(st.st_mode) + "); run: chmod go-w";
  if (st.st_size > static_cast<off_t>(kMaxFileBytes))
    return "is larger than the limit of " + std::to_string(kMaxFileBytes) + " bytes";
  return std::nullopt;
}

bool read_all(int fd, Secret& out) {
  SecureString& text = out.mutable_value();
  text.reserve(4096);
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { wipe_bytes(buf, sizeof buf); return false; }
    if (n == 0) break;
    if (text.size() + static_cast<std::size_t>(n) > kMaxFileBytes) { wipe_bytes(buf, sizeof buf); return false; }
    text.append(buf, static_cast<std::size_t>(n));
  }
  wipe_bytes(buf, sizeof buf);
  return true;
}

std::optional<gid_t> group_id(const std::string& name) {
  struct group grp {};
  struct group* found = nullptr;
  std::vector<char> buf(16384);
  if (::getgrnam_r(name.c_str(), &grp, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return std::nullopt;
  return found->gr_gid;
}

}  // namespace

std::optional<SafeFile> read_safe_file(const std::string& path, std::string& why) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    why = open_error(errno);
    return std::nullopt;
  }
  SafeFile file;
  file.path = path;
  if (::fstat(fd.get(), &file.st) != 0) {
    why = std::string("cannot stat: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (auto problem = mode_problem(file.st)) {
    why = *problem;
    return std::nullopt;
  }
  if (!read_all(fd.get(), file.text)) {
    why = "cannot read, or larger than " + std::to_string(kMaxFileBytes) + " bytes";
    return std::nullopt;
  }
  return file;
}

std::optional<SafeFile> read_safe_file(const std::string& path, Problems& problems) {
  std::string why;
  auto file = read_safe_file(path, why);
  if (!file) problems.add(path, 0, "", why);
  return file;
}

std::optional<std::string> secret_mode_problem(const SafeFile& file, const std::string& secrets_group) {
  const mode_t mode = file.st.st_mode;
  if ((mode & S_IROTH) != 0) return "holds secrets and is readable by others; run: chmod o-r";
  if ((mode & S_IRGRP) == 0) return std::nullopt;
  if (secrets_group.empty())
    return "holds secrets and is readable by its group; run: chmod g-r, or set secrets_group "
           "to that group to allow it deliberately";
  const auto gid = group_id(secrets_group);
  if (!gid || *gid != file.st.st_gid) return "is group-readable but its group is not secrets_group '" + secrets_group + "'";
  return std::nullopt;
}

void check_secret_mode(const SafeFile& file, const std::string& secrets_group, Problems& problems) {
  if (auto why = secret_mode_problem(file, secrets_group)) problems.add(file.path, 0, "", *why);
}

}  // namespace otp::config
