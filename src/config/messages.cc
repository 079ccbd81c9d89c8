#include "config/messages.h"

#include <array>

namespace otp::config {
namespace {
constexpr std::array<std::string_view, 6> kPlaceholders = {"destination", "attempts_left", "attempts_word", "minutes",
                                                           "seconds", "count"};
}

const std::vector<MessageDefault>& default_messages() {
  static const std::vector<MessageDefault> messages = {
      {"prompt", "Code sent to {destination} (Enter for a new one): "},
      {"prompt_no_resend", "Code sent to {destination}: "},
      {"wrong_code", "Incorrect code, {attempts_left} {attempts_word} left."},
      {"wrong_or_expired", "Incorrect or expired code, {attempts_left} {attempts_word} left. Press Enter for a new code."},
      {"wrong_code_final", "Incorrect code. No attempts left."},
      {"invalid_code", "That is not a valid code, {attempts_left} {attempts_word} left."},
      {"invalid_code_final", "That is not a valid code. No attempts left."},
      {"resent", "A new code was sent to {destination}."},
      {"resend_wait", "Please wait {seconds} seconds before asking for a new code."},
      {"expired", "The code has expired. Press Enter to get a new one."},
      {"expired_final", "The code has expired."},
      {"locked", "Too many attempts."},
      {"disabled", "Your one-time code token is disabled. Ask your administrator."},
      {"rate_limited", "Too many codes requested."},
      {"retry_in", "Try again in {minutes} minutes."},
      {"unavailable", "The code service is unavailable."},
      {"failed", "Authentication failed."},
      {"password_prompt", "Password: "},
      {"choose_channel", "Where should the code go?"},
      {"channel_sms", "SMS to {destination}"},
      {"channel_voice", "Voice call to {destination}"},
      {"channel_whatsapp", "WhatsApp to {destination}"},
      {"channel_email", "E-mail to {destination}"},
      {"channel_sms+email", "SMS and e-mail to {destination}"},
      {"choose_prompt", "Choice [1-{count}]: "},
      {"invalid_choice", "That is not one of the choices, {attempts_left} {attempts_word} left."},
      {"invalid_choice_final", "That is not one of the choices. No attempts left."},
      {"send_limited", "Too many codes were requested. Try again in {minutes} minutes."},
      {"recovery_prompt", "Recovery code: "},
      {"recovery_unavailable", "Recovery codes cannot be checked now."},
      {"recovery_used", "Recovery code accepted; {count} left."},
      {"recovery_used_last", "Recovery code accepted. It was your last one: ask for new ones."},
  };
  return messages;
}

std::optional<std::string> message_problem(std::string_view text) {
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && c != '\n' && c != '\t') || b == 0x7F) return "contains a control character";
  }
  for (std::size_t open = text.find('{'); open != std::string_view::npos; open = text.find('{', open + 1)) {
    const auto close = text.find('}', open);
    if (close == std::string_view::npos) return "has a '{' without '}'";
    const auto name = text.substr(open + 1, close - open - 1);
    bool known = false;
    for (auto p : kPlaceholders) known = known || p == name;
    if (!known)
      return "unknown placeholder {" + std::string(name) +
             "} (known: {destination} {attempts_left} {attempts_word} {minutes} {seconds} {count})";
  }
  return std::nullopt;
}

std::string render(std::string_view text, const std::vector<std::pair<std::string_view, std::string>>& values) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '{') {
      for (const auto& [name, value] : values) {
        if (text.compare(i + 1, name.size(), name) == 0 && i + 1 + name.size() < text.size() &&
            text[i + 1 + name.size()] == '}') {
          out += value;
          i += name.size() + 2;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

}  // namespace otp::config
