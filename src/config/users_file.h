// The users file: who gets a code, and where.
//
//   # NAME key=value ...
//   alice  phone=+15551234567
//   bob    email=bob@example.com channel=email user_id="user-live-42"
//   *      email=${user}@corp.example
//
// phone (E.164), email, channel and any other key (a template variable).
// "*" applies to every user not listed and may use ${user}.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/problem.h"

namespace otp::config {

struct UserEntry {
  std::string name;
  std::map<std::string, std::string, std::less<>> keys;
  int line = 0;
};

class UsersFile {
 public:
  // Parses text; every problem names path and line.
  static UsersFile parse(std::string_view text, const std::string& path, Problems& problems);

  // The user's entry, from their own line or from "*" with ${user} filled in.
  std::optional<UserEntry> find(const std::string& user) const;
  std::size_t size() const { return users_.size(); }
  const std::map<std::string, UserEntry, std::less<>>& listed() const { return users_; }
  const std::optional<UserEntry>& wildcard() const { return wildcard_; }

 private:
  std::map<std::string, UserEntry, std::less<>> users_;
  std::optional<UserEntry> wildcard_;
};

// The keys pam_otp itself reads from a user's line; any other key is a
// template variable for the provider.
const std::vector<std::string_view>& user_keys();

// Keys the users file may not define (the module sets them itself).
bool is_reserved_user_key(std::string_view key);

}  // namespace otp::config
