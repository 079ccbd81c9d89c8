// The PAM side of the flow's interfaces: the conversation through
// pam_prompt/pam_info/pam_error, and the log through pam_syslog.
#pragma once

#include <security/pam_modules.h>

#include "base/logger.h"
#include "flow/conversation.h"

namespace otp::pam {

class PamConversation final : public flow::Conversation {
 public:
  explicit PamConversation(pam_handle_t* pamh) : pamh_(pamh) {}
  std::optional<Secret> ask(std::string_view prompt, bool echo) override;
  void info(std::string_view text) override;
  void error(std::string_view text) override;

 private:
  pam_handle_t* pamh_;
};

// The core writes LOG_DEBUG lines only when `debug` is on (argument or file).
class PamLogger final : public Logger {
 public:
  explicit PamLogger(pam_handle_t* pamh) : pamh_(pamh) {}
  void log(int priority, const std::string& message) override;

 private:
  pam_handle_t* pamh_;
};

}  // namespace otp::pam
