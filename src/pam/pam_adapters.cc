#include "pam/pam_adapters.h"

#include <security/pam_ext.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace otp::pam {

std::optional<Secret> PamConversation::ask(std::string_view prompt, bool echo) {
  char* response = nullptr;
  const std::string text(prompt);
  const int rc = pam_prompt(pamh_, echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, &response, "%s", text.c_str());
  if (rc != PAM_SUCCESS) {
    if (response != nullptr) {
      wipe_bytes(response, std::strlen(response));
      std::free(response);
    }
    return std::nullopt;
  }
  // A NULL response is end of input (Linux-PAM's misc_conv on Ctrl-D), not
  // an empty answer: the login ends with PAM_CONV_ERR.
  if (response == nullptr) return std::nullopt;
  Secret answer(response);
  wipe_bytes(response, std::strlen(response));
  std::free(response);
  return answer;
}

void PamConversation::info(std::string_view text) {
  const std::string s(text);
  pam_info(pamh_, "%s", s.c_str());
}

void PamConversation::error(std::string_view text) {
  const std::string s(text);
  pam_error(pamh_, "%s", s.c_str());
}

void PamLogger::log(int priority, const std::string& message) {
  pam_syslog(pamh_, priority, "%s", message.c_str());
}

}  // namespace otp::pam
