#include "provider/channels.h"

namespace otp::provider {

const std::vector<ChannelInfo>& channels() {
  static const std::vector<ChannelInfo> list = {
      {"sms", {"phone"}},
      {"voice", {"phone"}},
      {"whatsapp", {"phone"}},
      {"email", {"email"}},
      {"sms+email", {"phone", "email"}},
  };
  return list;
}

const ChannelInfo* find_channel(std::string_view name) {
  for (const auto& c : channels())
    if (c.name == name) return &c;
  return nullptr;
}

std::string channel_names(bool with_ask) {
  std::string out;
  for (const auto& c : channels()) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return with_ask ? out + " or ask" : out;
}

}  // namespace otp::provider
