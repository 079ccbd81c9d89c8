// sshd's SSH_AUTH_INFO_0 (ExposeAuthInfo yes), read in one place: one line
// per method that succeeded before the PAM stack ran, "method[/submethod]
// [detail]": "publickey ssh-ed25519 AAAA...", "keyboard-interactive/pam",
// "password".
#pragma once

#include <string_view>
#include <vector>

namespace otp::flow {

struct SshAuthStep {
  std::string_view line;       // the whole line
  std::string_view method;     // "publickey"
  std::string_view submethod;  // "pam" in "keyboard-interactive/pam"; may be empty
  std::string_view detail;     // the key, for publickey; may be empty
};

// The steps of an SSH_AUTH_INFO_0 value, empty lines skipped.
std::vector<SshAuthStep> ssh_auth_steps(std::string_view auth_info);

}  // namespace otp::flow
