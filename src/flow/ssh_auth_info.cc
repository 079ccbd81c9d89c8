#include "flow/ssh_auth_info.h"

#include "base/text.h"

namespace otp::flow {

std::vector<SshAuthStep> ssh_auth_steps(std::string_view auth_info) {
  std::vector<SshAuthStep> steps;
  for (const std::string_view line : split_lines(auth_info)) {
    if (line.empty()) continue;
    const auto space = line.find(' ');
    const std::string_view name = line.substr(0, space);
    const auto slash = name.find('/');
    steps.push_back({line, name.substr(0, slash), slash == std::string_view::npos ? "" : name.substr(slash + 1),
                     space == std::string_view::npos ? "" : line.substr(space + 1)});
  }
  return steps;
}

}  // namespace otp::flow
