// Every text the user sees, overridable in [messages]. Placeholders:
// {destination} {attempts_left} {minutes} {seconds} {count}.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otp::config {

struct MessageDefault {
  std::string_view key;
  std::string_view text;
};

const std::vector<MessageDefault>& default_messages();

// nullopt when text only uses known placeholders, else the problem.
std::optional<std::string> message_problem(std::string_view text);

// Replaces {name} with its value; unknown names are left as they are.
std::string render(std::string_view text, const std::vector<std::pair<std::string_view, std::string>>& values);

}  // namespace otp::config
