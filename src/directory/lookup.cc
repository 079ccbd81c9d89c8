#include "directory/lookup.h"

#include <algorithm>

#include "base/text.h"
#include "directory/phone.h"

namespace otp::directory {
namespace {

// A menu's worth: an entry with more values (a user who may write their
// own attribute) does not make a prompt without end.
constexpr std::size_t kMaxDestinations = 10;

// Each destination once: "+1 202 555 0143" and "(202) 555-0143" are one number.
void add(Answer& answer, const std::string& channel, const std::string& address, const std::string& origin) {
  const auto same = [&](const Found& f) { return f.channel == channel && f.address == address; };
  if (std::any_of(answer.destinations.begin(), answer.destinations.end(), same)) return;
  if (answer.destinations.size() < kMaxDestinations) answer.destinations.push_back({channel, address, origin});
  else answer.left_out.push_back(origin + " is one more than the " + std::to_string(kMaxDestinations) + " destinations a menu shows");
}

}  // namespace

Answer lookup(const LookupOptions& options, const std::string& user, Clock::time_point deadline) {
  LdapOptions ldap = options.ldap;
  ldap.attributes.clear();
  for (const auto& source : options.channels) ldap.attributes.push_back(source.attribute);
  const auto entry = find_entry(ldap, options.filter.expand(user), deadline);
  Answer answer;
  if (!entry) return answer;
  answer.entry = true;
  answer.dn = entry->dn;
  for (const auto& [channel, attribute, email] : options.channels) {
    const auto values = entry->values.find(attribute);
    if (values == entry->values.end()) continue;
    // (A value left out is named by its attribute and place, not shown:
    // it may be most of someone's phone number.)
    int place = 0;
    for (const auto& value : values->second) {
      const std::string which = attribute + " value " + std::to_string(++place);
      if (email) {
        if (is_email(value)) add(answer, channel, value, which);
        else answer.left_out.push_back(which + " is not an e-mail address");
        continue;
      }
      const PhoneNumber number = normalise_phone(value, options.default_region);
      if (!number.e164.empty()) add(answer, channel, number.e164, which);
      else answer.left_out.push_back(which + " " + number.problem);
    }
  }
  return answer;
}

}  // namespace otp::directory
