// Reading the config, secrets and users files the way a PAM module must:
// no symlinks, regular files only, owned by root, not writable by anyone
// else, secrets not readable by others, bounded size.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "base/problem.h"
#include "base/secret.h"

namespace otp::config {

inline constexpr std::size_t kMaxFileBytes = 1 << 20;

struct SafeFile {
  std::string path;
  Secret text;
  struct stat st {};
};

// Opens with O_NOFOLLOW|O_NONBLOCK (a FIFO cannot block a login), checks
// the owner and mode, reads at most kMaxFileBytes. nullopt plus a problem
// naming the file and the broken rule on refusal.
std::optional<SafeFile> read_safe_file(const std::string& path, Problems& problems);
// The same, with the broken rule in `why` ("is a symbolic link; ...").
std::optional<SafeFile> read_safe_file(const std::string& path, std::string& why);

// A file that holds secrets must not be readable by others; group-read only
// when secrets_group names the file's group. Adds a problem when it fails.
void check_secret_mode(const SafeFile& file, const std::string& secrets_group, Problems& problems);
// The same, returning the broken rule; nullopt when the mode is fine.
std::optional<std::string> secret_mode_problem(const SafeFile& file, const std::string& secrets_group);

}  // namespace otp::config
