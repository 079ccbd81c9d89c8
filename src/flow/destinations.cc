#include "flow/destinations.h"


#include "base/text.h"
#include "config/messages.h"
#include "flow/session.h"
#include "provider/channels.h"

namespace otp::flow {
namespace {

std::string key_of(const config::UserEntry& entry, std::string_view key) {
  const auto it = entry.keys.find(key);
  return it == entry.keys.end() ? std::string() : it->second;
}

// The user's addresses for a channel; nullopt when one is missing.
std::optional<Destination> destination_for(const config::UserEntry& entry, const provider::ChannelInfo& channel) {
  Destination d{std::string(channel.name), key_of(entry, channel.address_keys.at(0)), {}, {}};
  if (channel.address_keys.size() > 1) d.second_address = key_of(entry, channel.address_keys[1]);
  if (d.address.empty() || (channel.address_keys.size() > 1 && d.second_address.empty())) return std::nullopt;
  return d;
}

std::string menu_text(const config::Config& cfg, const std::vector<Destination>& options) {
  std::string text = cfg.messages.at("choose_channel") + "\n";
  for (std::size_t i = 0; i < options.size(); ++i) {
    const std::string label = config::render(cfg.messages.at("channel_" + options[i].channel),
                                             {{"destination", masked(options[i])}});
    text += "  " + std::to_string(i + 1) + ") " + label + "\n";
  }
  return text + config::render(cfg.messages.at("choose_prompt"), {{"count", std::to_string(options.size())}});
}

std::optional<std::size_t> parse_choice(std::string_view answer, std::size_t count) {
  const auto text = trim(answer);
  if (text.empty() || text.size() > 2 || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  const std::size_t n = static_cast<std::size_t>(std::stoi(std::string(text)));
  if (n < 1 || n > count) return std::nullopt;
  return n - 1;
}

}  // namespace

std::string masked(const Destination& d) {
  if (d.address.empty()) return {};
  return mask_destination(d.address) + (d.second_address.empty() ? "" : " and " + mask_destination(d.second_address));
}

std::string preferred_channel(const config::Config& cfg, const config::UserEntry& entry,
                              const std::optional<std::string>& forced) {
  if (forced) return *forced;
  if (auto it = entry.keys.find("channel"); it != entry.keys.end()) return it->second;
  return cfg.channel;
}

std::vector<Destination> destination_options(const config::Config& cfg, const config::UserEntry& entry,
                                             const std::string& channel) {
  const bool required = cfg.provider.destination_required;
  std::vector<Destination> options;
  if (channel != "ask") {
    const auto* info = provider::find_channel(channel);
    auto d = info != nullptr ? destination_for(entry, *info) : std::nullopt;
    if (d) options.push_back(std::move(*d));
    else if (!required) options.push_back({channel, {}, {}, {}});
    return options;
  }
  for (const auto& c : provider::channels()) {
    auto d = destination_for(entry, c);
    if (d && cfg.provider.supports_channel(std::string(c.name))) options.push_back(std::move(*d));
  }
  // A provider that knows the destination itself needs no choice from us.
  if (options.empty() && !required) options.push_back({"sms", {}, {}, {}});
  return options;
}

std::vector<Destination> destination_options(const config::Config& cfg, const std::vector<Destination>& listed,
                                             const std::string& channel) {
  std::vector<Destination> options;
  for (const auto& d : listed)
    if (channel == "ask" ? cfg.provider.supports_channel(d.channel) : d.channel == channel) options.push_back(d);
  return options;
}

MenuOutcome choose_destination(const config::Config& cfg, const std::vector<Destination>& options,
                               Conversation& conversation, bool silent, const Secret* password, LoginRecord& record) {
  MenuOutcome outcome;
  if (options.size() == 1) {
    outcome.choice = options.front();
    return outcome;
  }
  const std::string menu = menu_text(cfg, options);
  for (;;) {
    const auto answer = conversation.ask(menu, true);
    if (!answer) {
      record.set(Result::ConversationFailed, "no answer to the channel menu");
      outcome.result = AuthResult::ConvErr;
      return outcome;
    }
    if (answer_ends_login(*answer, password, record)) {
      if (!silent) conversation.error(cfg.messages.at("failed"));
      outcome.result = AuthResult::AuthErr;
      return outcome;
    }
    if (const auto index = parse_choice(answer->reveal(), options.size())) {
      outcome.choice = options[*index];
      return outcome;
    }
    ++outcome.attempts_used;
    record.attempts = outcome.attempts_used;
    const int left = cfg.attempts - outcome.attempts_used;
    const std::string key = left > 0 ? "invalid_choice" : "invalid_choice_final";
    if (!silent)
      conversation.error(config::render(cfg.messages.at(key), {{"attempts_left", std::to_string(left)},
                                                              {"attempts_word", left == 1 ? "attempt" : "attempts"}}));
    if (left <= 0) {
      record.set(Result::MaxTries, "no valid choice in the channel menu");
      outcome.result = AuthResult::MaxTries;
      return outcome;
    }
  }
}

}  // namespace otp::flow
