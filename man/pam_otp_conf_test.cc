// pam_otp.conf(5) documents every key the code accepts, and nothing else:
// the keys of each section of man/pam_otp.conf.5.scd are compared with the
// parser's own lists (top-level keys, users file, each preset, the provider
// language, auth schemes) and the messages with their default texts.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/messages.h"
#include "config/settings.h"
#include "config/users_file.h"
#include "provider/presets.h"
#include "provider/spec_loader.h"

namespace {

using Keys = std::set<std::string>;

// One definition: "*key*, *other* (type; default)" then tab-indented text.
struct Entry {
  std::vector<std::string> keys;
  std::string description;  // the indented lines joined by spaces
};

// Entries by section: "TOP-LEVEL KEYS", "PROVIDERS/stytch", ...
using ManPage = std::map<std::string, std::vector<Entry>>;

std::vector<std::string> keys_of(std::string head) {
  head = std::regex_replace(head, std::regex(R"(\([^)]*\))"), "");  // types and defaults
  std::vector<std::string> keys;
  const std::regex key(R"(\*\[?([a-z][a-z0-9_+]*))");  // (channel_sms+email)
  for (std::sregex_iterator it(head.begin(), head.end(), key), end; it != end; ++it) keys.push_back((*it)[1]);
  return keys;
}

ManPage read_man_page() {
  std::ifstream in(PAM_OTP_SOURCE_DIR "/man/pam_otp.conf.5.scd");
  BOOST_REQUIRE_MESSAGE(in, "cannot read man/pam_otp.conf.5.scd");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ManPage page;
  std::string section, subsection;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("## ", 0) == 0) subsection = line.substr(3);
    if (line.rfind("# ", 0) == 0) section = line.substr(2), subsection.clear();
    const bool defines = !line.empty() && line[0] == '*' && i + 1 < lines.size() && lines[i + 1].rfind('\t', 0) == 0;
    if (!defines) continue;
    Entry entry{keys_of(line), ""};
    for (std::size_t j = i + 1; j < lines.size() && lines[j].rfind('\t', 0) == 0; ++j)
      entry.description += (entry.description.empty() ? "" : " ") + lines[j].substr(1);
    page[subsection.empty() ? section : section + "/" + subsection].push_back(entry);
  }
  return page;
}

const ManPage& man_page() {
  static const ManPage page = read_man_page();
  return page;
}

Keys documented(const std::string& section) {
  BOOST_REQUIRE_MESSAGE(man_page().count(section), "pam_otp.conf(5) has no section " + section);
  Keys keys;
  for (const auto& entry : man_page().at(section)) keys.insert(entry.keys.begin(), entry.keys.end());
  return keys;
}

template <typename Range>
Keys as_keys(const Range& range) {
  Keys keys;
  for (const auto& k : range) keys.emplace(k);
  return keys;
}

// Equal sets, with the differences named both ways when they are not.
void compare(const std::string& what, const Keys& in_doc, const Keys& in_code) {
  std::string undocumented, unknown;
  for (const auto& k : in_code)
    if (!in_doc.count(k)) undocumented += " " + k;
  for (const auto& k : in_doc)
    if (!in_code.count(k)) unknown += " " + k;
  BOOST_TEST(undocumented.empty(), what << ": accepted but not documented:" << undocumented);
  BOOST_TEST(unknown.empty(), what << ": documented but not accepted:" << unknown);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(man_pam_otp_conf)

BOOST_AUTO_TEST_CASE(top_level_keys_and_users_file) {
  compare("top-level keys", documented("TOP-LEVEL KEYS"), as_keys(otp::config::top_level_keys()));
  compare("users file", documented("USERS FILE"), as_keys(otp::config::user_keys()));
}

BOOST_AUTO_TEST_CASE(every_preset_and_its_keys) {
  Keys presets;
  for (const auto& [section, entries] : man_page())
    if (section.rfind("PROVIDERS/", 0) == 0) presets.insert(section.substr(10));
  Keys builtin;
  for (const auto& p : otp::provider::builtin_presets()) builtin.emplace(p.name);
  compare("presets", presets, builtin);
  for (const auto& name : builtin)
    compare("preset " + name, documented("PROVIDERS/" + name), as_keys(otp::provider::preset_keys(name)));
}

BOOST_AUTO_TEST_CASE(the_provider_language) {
  compare("provider table", documented("PROVIDER LANGUAGE/The provider table"),
          as_keys(otp::provider::provider_table_keys()));
  compare("steps", documented("PROVIDER LANGUAGE/Steps"), as_keys(otp::provider::step_keys()));
  compare("rules", documented("PROVIDER LANGUAGE/Rules"), as_keys(otp::provider::rule_keys()));
}

BOOST_AUTO_TEST_CASE(auth_schemes_and_their_parameters) {
  std::string auth;
  for (const auto& entry : man_page().at("PROVIDER LANGUAGE/The provider table"))
    if (entry.keys == std::vector<std::string>{"auth"}) auth = std::regex_replace(entry.description, std::regex(R"(\*)"), "");
  std::map<std::string, std::vector<std::string>> in_doc;
  const std::regex scheme(R"re(\{ scheme = "([a-z]+)"([^}]*)\})re"), param(R"re(([a-z_]+) =)re");
  for (std::sregex_iterator it(auth.begin(), auth.end(), scheme), end; it != end; ++it) {
    auto& params = in_doc[(*it)[1]];
    const std::string rest = (*it)[2];
    for (std::sregex_iterator p(rest.begin(), rest.end(), param); p != end; ++p) params.push_back((*p)[1]);
  }
  BOOST_TEST((in_doc == otp::provider::auth_scheme_params()), "auth schemes in pam_otp.conf(5): " << auth);
}

BOOST_AUTO_TEST_CASE(messages_and_their_defaults) {
  Keys in_code;
  std::map<std::string, std::string> defaults;
  for (const auto& m : otp::config::default_messages()) {
    in_code.emplace(m.key);
    defaults.emplace(m.key, m.text);
  }
  compare("messages", documented("MESSAGES"), in_code);
  const std::regex quoted("\"([^\"]*)\"");
  for (const auto& entry : man_page().at("MESSAGES")) {
    std::vector<std::string> texts;
    for (std::sregex_iterator it(entry.description.begin(), entry.description.end(), quoted), end; it != end; ++it)
      texts.push_back((*it)[1]);
    BOOST_TEST_REQUIRE(texts.size() == entry.keys.size(), "one default text per key: " << entry.description);
    for (std::size_t i = 0; i < texts.size(); ++i)
      BOOST_TEST(texts[i] == defaults[entry.keys[i]], "default of " << entry.keys[i]);
  }
}

BOOST_AUTO_TEST_SUITE_END()
