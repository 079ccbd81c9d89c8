// Step 6 begins here (docs/design.md, "Destinations from the directory"):
// which source knows where the user's code goes. The sources are asked in
// the order of the destinations key; the first that knows the user decides
// (a users file line of their own, or a directory entry, even one without a
// usable value), and the users file's "*" line comes after all of them. A
// directory that cannot answer is an outage, never "not known".
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "config/loader.h"
#include "directory/lookup.h"
#include "flow/destinations.h"
#include "flow/session.h"

namespace otp::flow {

// Asks the directory: through its plugin in the module
// (directory/plugin.h), directly in pam-otp, a fake in tests. Throws
// directory::Unavailable.
using DirectoryLookup = std::function<directory::Answer(const directory::LookupOptions& options,
                                                        const std::string& user, directory::Clock::time_point deadline)>;

struct Known {
  enum class Status {
    Listed,  // a source knows the user: entry (and listed) say where codes may go
    Nobody,  // no source knows the user, or the directory's entry has no usable value: unenrolled
    Outage,  // the directory could not say: failmode decides
  };
  Status status = Status::Nobody;
  // The users file's line; for a directory entry, the user's name and, once
  // a destination is chosen, its phone and e-mail (for the provider's
  // template variables: with_choice).
  config::UserEntry entry;
  bool from_directory = false;
  std::vector<Destination> listed;  // from the directory: every destination it gave, in order
  // Where it came from, for the log and pam-otp show and test: "users_file
  // line 4", "directory uid=alice,ou=people,dc=example,dc=com".
  std::string source;
  std::string dn;                          // the directory's entry
  std::string why;                         // Nobody, Outage: what the sources said
  directory::Failure failure = directory::Failure::Local;  // Outage
  std::vector<std::string> left_out;       // the directory's values that are no destination, for the log
  bool asked_directory = false;
  std::chrono::microseconds directory_time{0};
};

// What the sources say about `user`. `now` is the login's clock: the
// directory's deadline is now + its timeout.
Known find_destinations(const config::Loaded& loaded, const std::string& user, const DirectoryLookup& lookup,
                        const std::function<std::chrono::steady_clock::time_point()>& now);

// The directory's request, from its configuration.
directory::LookupOptions lookup_options(const config::DirectoryConfig& d);

// A directory that could not answer, as failmode sees it: what may open
// failmode = "safe" (docs/design.md, "Destinations from the directory").
Outage outage_of(const Known& known);

// The entry for the provider's template variables once `choice` is made:
// for a directory user, phone and email from the choice, else the first
// of each kind the directory gave.
config::UserEntry with_choice(const Known& known, const Destination& choice);

}  // namespace otp::flow
