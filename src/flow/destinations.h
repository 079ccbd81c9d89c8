// Step 6 of the login (docs/design.md, "The login flow"): where the code
// goes. The users file gives a user's phone and e-mail and maybe a preferred
// channel; the provider says which channels it has. With channel = "ask" and several possibilities, the user chooses
// from a numbered menu of masked destinations.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/users_file.h"
#include "flow/conversation.h"
#include "flow/record.h"
#include "flow/result.h"

namespace otp::flow {

struct Destination {
  std::string channel;         // a name of provider::channels()
  std::string address;         // phone or e-mail; empty when the provider knows it
  std::string second_address;  // the e-mail of sms+email
  std::string origin;          // from the directory: its attribute and place ("mobile value 2")
};

// The destination as the user may see it and the log may hold it: masked,
// both addresses of sms+email ("+1******4567 and a***@example.com").
std::string masked(const Destination& d);

// What the user may receive codes on, for the channel asked for ("ask":
// every channel the provider has and the user has an address for).
// Empty: the user is not enrolled.
std::vector<Destination> destination_options(const config::Config& cfg, const config::UserEntry& entry,
                                             const std::string& channel);
// The same from a list of destinations (the directory's): those on the
// channel asked for, or, for "ask", those on a channel the provider has.
std::vector<Destination> destination_options(const config::Config& cfg, const std::vector<Destination>& listed,
                                             const std::string& channel);

// The channel asked for: a forced one, the users file's, else the config's.
std::string preferred_channel(const config::Config& cfg, const config::UserEntry& entry,
                              const std::optional<std::string>& forced);

struct MenuOutcome {
  std::optional<Destination> choice;  // nullopt: failed, see result
  AuthResult result = AuthResult::AuthErr;
  int attempts_used = 0;              // invalid choices, which cost attempts like codes
};

// The numbered menu, asked until a valid choice or the attempts run out.
// An answer equal to `password` (when not null) ends the login.
MenuOutcome choose_destination(const config::Config& cfg, const std::vector<Destination>& options,
                               Conversation& conversation, bool silent, const Secret* password, LoginRecord& record);

}  // namespace otp::flow
