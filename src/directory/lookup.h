// A user's destinations from the directory: the entry the filter finds,
// each value of each configured attribute made a destination (phone
// numbers E.164 through libphonenumber, e-mail addresses checked), and
// every value left out with why, for the log. The directory plugin's work;
// the flow turns its answer into "enrolled", "unenrolled" or an outage.
// docs/design.md, "Destinations from the directory".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "directory/filter.h"
#include "directory/ldap_client.h"

namespace otp::directory {

// Which attribute gives a channel's addresses, and what they are.
struct ChannelSource {
  std::string channel;    // "sms"
  std::string attribute;  // "mobile"
  bool email = false;     // e-mail addresses; else phone numbers
};

struct LookupOptions {
  LdapOptions ldap;  // its attributes: filled from `channels`
  FilterTemplate filter;
  std::vector<ChannelSource> channels;  // in order
  std::string default_region;
};

// One destination the entry gives.
struct Found {
  std::string channel;
  std::string address;  // E.164, or the e-mail address
  std::string origin;   // "mobile value 2": its attribute and place, for pam-otp show and test
};

struct Answer {
  bool entry = false;  // the directory has the user (false: no entry at all)
  std::string dn;
  std::vector<Found> destinations;  // in the configured order, each once
  std::vector<std::string> left_out;  // "mobile value 2 is not a valid number (libphonenumber)", for the log
};

// The user's answer. Throws Unavailable (the directory cannot say).
Answer lookup(const LookupOptions& options, const std::string& user, Clock::time_point deadline);

}  // namespace otp::directory
