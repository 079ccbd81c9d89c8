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
  if (response == nullptr) return Secret();  // some applications answer "nothing" with NULL
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
