// The channels pam_otp knows, in the order the channel menu lists them, and
// the users-file keys each sends to. Every list of channels (the config's
// `channel`, the users file's, a provider's `channels`, the menu, the CLI's
// --channel) is this one.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace otp::provider {

struct ChannelInfo {
  std::string_view name;
  std::vector<std::string_view> address_keys;  // all must be present: "phone", "email"
};

// sms+email: one code to the phone and the address at once (BlockID's
// guide), for providers whose `channels` list it.
const std::vector<ChannelInfo>& channels();

// A channel of the list, or nullptr.
const ChannelInfo* find_channel(std::string_view name);

// "sms, email, ..." for messages; with " or ask" when ask is allowed.
std::string channel_names(bool with_ask);

}  // namespace otp::provider
