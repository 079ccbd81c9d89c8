#include "config/users_file.h"

#include <algorithm>

#include <vector>

#include "base/text.h"
#include "provider/channels.h"
#include "provider/spec.h"

namespace otp::config {
namespace {

struct LineParser {
  std::string_view text;
  std::size_t pos = 0;

  void skip_space() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  }
  bool at_end() {
    skip_space();
    return pos >= text.size() || text[pos] == '#';
  }
  std::string word() {
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t' && text[pos] != '=') ++pos;
    return std::string(text.substr(start, pos - start));
  }
  // A value: bare up to whitespace, or "quoted" with \" and \\ escapes.
  std::optional<std::string> value() {
    std::string out;
    if (pos < text.size() && text[pos] == '"') {
      for (++pos; pos < text.size() && text[pos] != '"'; ++pos) {
        if (text[pos] == '\\' && pos + 1 < text.size()) ++pos;
        out += text[pos];
      }
      if (pos >= text.size()) return std::nullopt;
      ++pos;
      return out;
    }
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t') out += text[pos++];
    return out;
  }
};

bool valid_key(std::string_view key) {
  if (key.empty() || !(key[0] >= 'a' && key[0] <= 'z')) return false;
  for (char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::string replace_user(std::string value, const std::string& user) {
  for (std::size_t at = value.find("${user}"); at != std::string::npos; at = value.find("${user}", at + user.size()))
    value.replace(at, 7, user);
  return value;
}

// Checks one key=value; returns the problem, if any.
std::optional<std::string> value_problem(const std::string& key, const std::string& value, bool wildcard) {
  if (value.find("${") != std::string::npos) {
    if (!wildcard) return "only the '*' line may use ${user}";
    if (replace_user(value, "user").find("${") != std::string::npos) return "only ${user} may be used here";
  }
  const std::string sample = replace_user(value, "user");
  if (key == "phone" && !is_e164(sample))
    return "'" + value + "' is not an E.164 number (a '+', the country code, then the number, digits only: +15551234567)";
  if (key == "email" && !is_email(sample)) return "'" + value + "' is not an e-mail address";
  if (key == "channel" && value != "ask" && provider::find_channel(value) == nullptr)
    return "must be " + provider::channel_names(true);
  for (char c : value)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return "contains a control character";
  return std::nullopt;
}

std::optional<UserEntry> parse_line(std::string_view line, int number, const std::string& path, Problems& problems) {
  LineParser p{line};
  if (p.at_end()) return std::nullopt;
  UserEntry entry{p.word(), {}, number};
  auto fail = [&](const std::string& key, const std::string& message) {
    problems.add(path, number, key, message);
  };
  if (entry.name.empty()) { fail("", "a line must start with a user name"); return std::nullopt; }
  while (!p.at_end()) {
    const std::string key = p.word();
    if (p.pos >= line.size() || line[p.pos] != '=') { fail(key, "expected key=value"); return std::nullopt; }
    ++p.pos;
    const auto value = p.value();
    if (!value) { fail(key, "the quoted value has no closing '\"'"); return std::nullopt; }
    if (!valid_key(key)) { fail(key, "a key is lower-case letters, digits and '_'"); continue; }
    if (is_reserved_user_key(key)) { fail(key, "is set by the module itself and cannot be given here"); continue; }
    if (auto why = value_problem(key, *value, entry.name == "*")) { fail(key, *why); continue; }
    if (!entry.keys.emplace(key, *value).second) fail(key, "appears twice on this line");
  }
  return entry;
}

}  // namespace

const std::vector<std::string_view>& user_keys() {
  static const std::vector<std::string_view> keys = {"phone", "email", "channel"};
  return keys;
}

bool is_reserved_user_key(std::string_view key) {
  const auto& own = user_keys();
  return provider::is_builtin_variable(key) && std::find(own.begin(), own.end(), key) == own.end();
}

UsersFile UsersFile::parse(std::string_view text, const std::string& path, Problems& problems) {
  UsersFile file;
  int number = 0;
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++number;
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!is_utf8(line)) {  // it would reach JSON bodies
      problems.add(path, number, "", "is not valid UTF-8");
      continue;
    }
    auto entry = parse_line(line, number, path, problems);
    if (!entry) continue;
    if (entry->name == "*") {
      if (file.wildcard_) problems.add(path, number, "", "a second '*' line (the first is on line " + std::to_string(file.wildcard_->line) + ")");
      else file.wildcard_ = std::move(*entry);
    } else if (auto [it, added] = file.users_.emplace(entry->name, *entry); !added) {
      problems.add(path, number, "", "user '" + entry->name + "' is already listed on line " + std::to_string(it->second.line));
    }
  }
  return file;
}

std::optional<UserEntry> UsersFile::find(const std::string& user) const {
  if (auto it = users_.find(user); it != users_.end()) return it->second;
  if (!wildcard_) return std::nullopt;
  UserEntry entry = *wildcard_;
  entry.name = user;
  for (auto& [key, value] : entry.keys) value = replace_user(value, user);
  // A user name that makes no valid address gives no destination at all.
  if (auto it = entry.keys.find("email"); it != entry.keys.end() && !is_email(it->second)) entry.keys.erase(it);
  if (auto it = entry.keys.find("phone"); it != entry.keys.end() && !is_e164(it->second)) entry.keys.erase(it);
  return entry;
}

}  // namespace otp::config
