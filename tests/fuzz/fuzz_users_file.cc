// Fuzzes the users file parser (config/users_file.cc) and the lookup of a
// user's entry, for fixed names and for names taken from the input (the
// first word of each line, which the parser reads as a user name).
// Invariants: an entry found has the name asked for; listed users are found
// as listed; a phone or e-mail in an entry is always a valid one (also after
// "*"'s ${user} is filled in); keys are never reserved ones.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/text.h"
#include "config/users_file.h"
#include "fuzz_check.h"

namespace {

// The first word of each line, as far as the parser's own rule goes.
std::vector<std::string> names_in(std::string_view text) {
  std::vector<std::string> names;
  for (std::size_t start = 0; start < text.size() && names.size() < 16;) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    while (!line.empty() && (line[0] == ' ' || line[0] == '\t')) line.remove_prefix(1);
    names.emplace_back(line.substr(0, line.find_first_of(" \t=")));
    start = end + 1;
  }
  return names;
}

void check_entry(const otp::config::UsersFile& file, const std::string& name) {
  const auto entry = file.find(name);
  if (!entry) {
    CHECK(!file.wildcard() && !file.listed().count(name));
    return;
  }
  CHECK(entry->name == name);
  if (const auto listed = file.listed().find(name); listed != file.listed().end())
    CHECK(entry->keys == listed->second.keys);
  for (const auto& [key, value] : entry->keys) {
    CHECK(!otp::config::is_reserved_user_key(key));
    if (key == "phone") CHECK(otp::is_e164(value));
    if (key == "email") CHECK(otp::is_email(value));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  otp::Problems problems;
  const auto file = otp::config::UsersFile::parse(text, "users", problems);
  for (const auto& p : problems.list()) CHECK(p.file == "users" && p.line >= 1);

  for (const char* name : {"alice", "bob", "*", "", "root", "${user}", "a b", "\x01"}) check_entry(file, name);
  for (const auto& name : names_in(text)) check_entry(file, name);
  for (const auto& [name, entry] : file.listed()) CHECK(entry.name == name && name != "*" && !name.empty());
  return 0;
}
