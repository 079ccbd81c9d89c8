#include "directory/lookup.h"

#include "base/text.h"
#include "directory/phone.h"

namespace otp::directory {
namespace {

// Channels whose address is an e-mail address; the others take a phone number.
bool mail_channel(const std::string& channel) { return channel == "email"; }

}  // namespace

Answer lookup(const LookupOptions& options, const std::string& user, Clock::time_point deadline) {
  LdapOptions ldap = options.ldap;
  ldap.attributes.clear();
  for (const auto& [channel, attribute] : options.channels) ldap.attributes.push_back(attribute);
  const auto entry = find_entry(ldap, options.filter.expand(user), deadline);
  Answer answer;
  if (!entry) return answer;
  answer.entry = true;
  answer.dn = entry->dn;
  for (const auto& [channel, attribute] : options.channels) {
    const auto values = entry->values.find(attribute);
    if (values == entry->values.end()) continue;
    // (A value left out is named by its attribute and place, not shown:
    // it may be most of someone's phone number.)
    int place = 0;
    for (const auto& value : values->second) {
      const std::string which = attribute + " value " + std::to_string(++place);
      if (mail_channel(channel)) {
        if (is_email(value)) answer.destinations.emplace_back(channel, value);
        else answer.left_out.push_back(which + " is not an e-mail address");
        continue;
      }
      const PhoneNumber number = normalise_phone(value, options.default_region);
      if (!number.e164.empty()) answer.destinations.emplace_back(channel, number.e164);
      else answer.left_out.push_back(which + " " + number.problem);
    }
  }
  return answer;
}

}  // namespace otp::directory
