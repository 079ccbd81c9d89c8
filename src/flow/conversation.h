// Talking to the person logging in. In the module this is the PAM
// conversation; the CLI uses the terminal; tests script it.
#pragma once

#include <optional>
#include <string_view>

#include "base/secret.h"

namespace otp::flow {

class Conversation {
 public:
  virtual ~Conversation() = default;
  // The answer to a prompt; nullopt when the conversation failed or the user
  // ended it (EOF, Ctrl-D).
  virtual std::optional<Secret> ask(std::string_view prompt, bool echo) = 0;
  virtual void info(std::string_view text) = 0;
  virtual void error(std::string_view text) = 0;
};

}  // namespace otp::flow
