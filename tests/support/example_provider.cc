#include "example_provider.h"

#include <stdexcept>

#include "temp_dir.h"

namespace otp::testing {

std::string example_config() {
  const std::string text = read_file(PAM_OTP_SOURCE_DIR "/conf/pam_otp.conf");
  if (text.empty()) throw std::runtime_error("cannot read conf/pam_otp.conf");
  return text;
}

std::string mock_provider_toml(const std::string& base_url_toml) {
  std::string text = example_config();
  const auto start = text.find("\n[provider.mock]");
  const std::string line = "base_url = \"https://127.0.0.1:8443\"";
  const auto url = text.find(line, start);
  if (start == std::string::npos || url == std::string::npos)
    throw std::runtime_error("conf/pam_otp.conf no longer has [provider.mock] with the demo base_url");
  text.replace(url, line.size(), "base_url = " + base_url_toml);
  return text.substr(start);
}

std::string problem_lines(const Problems& problems) {
  std::string out;
  for (const auto& p : problems.list()) out += p.to_string() + "\n";
  return out;
}

}  // namespace otp::testing
