#include "flow/sources.h"

#include <algorithm>

#include "provider/channels.h"

namespace otp::flow {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

Known from_users_file(const config::UserEntry& entry, bool wildcard) {
  Known k;
  k.status = Known::Status::Listed;
  k.entry = entry;
  k.source = std::string(wildcard ? "users_file \"*\" line " : "users_file line ") + std::to_string(entry.line);
  return k;
}

// The directory's answer; nullopt when it has no entry for the user.
std::optional<Known> from_directory(const config::DirectoryConfig& d, const std::string& user,
                                    const DirectoryLookup& lookup,
                                    const std::function<std::chrono::steady_clock::time_point()>& now, Known& asked) {
  asked.asked_directory = true;
  const auto start = now();
  const auto spent = [&] { return duration_cast<microseconds>(now() - start); };
  try {
    if (!lookup) throw directory::Unavailable("this program cannot ask the directory", directory::Failure::Local);
    const directory::Answer a = lookup(lookup_options(d), user, start + std::chrono::milliseconds(d.timeout_ms));
    asked.directory_time = spent();
    if (!a.entry) return std::nullopt;
    Known k = asked;
    k.entry.name = user;
    k.from_directory = true;
    k.source = "directory " + a.dn;
    k.dn = a.dn;
    k.left_out = a.left_out;
    for (const auto& f : a.destinations) k.listed.push_back({f.channel, f.address, {}, f.origin});
    k.status = k.listed.empty() ? Known::Status::Nobody : Known::Status::Listed;
    if (k.listed.empty()) k.why = "the directory's entry " + a.dn + " has no usable destination";
    return k;
  } catch (const directory::Unavailable& e) {
    Known k = asked;
    k.directory_time = spent();
    k.status = Known::Status::Outage;
    k.failure = e.failure();
    k.why = std::string("the directory: ") + e.what();
    return k;
  }
}

}  // namespace

directory::LookupOptions lookup_options(const config::DirectoryConfig& d) {
  std::string why;
  auto filter = directory::FilterTemplate::parse(d.filter, &why);
  // (The configuration was checked: only a bug gets here.)
  if (!filter) throw directory::Unavailable("filter '" + d.filter + "' " + why, directory::Failure::Local);
  directory::LookupOptions o{{}, std::move(*filter), {}, d.default_region};
  o.ldap.uris = d.uris;
  o.ldap.ca_file = d.ca_file;
  o.ldap.bind_dn = d.bind_dn;
  o.ldap.bind_password = d.bind_password;
  o.ldap.client_cert = d.client_cert;
  o.ldap.client_key = d.client_key;
  o.ldap.base = d.base;
  o.ldap.follow_referrals = d.follow_referrals;
  for (const auto& [channel, attribute] : d.attributes) {
    const provider::ChannelInfo* info = provider::find_channel(channel);
    o.channels.push_back({channel, attribute, info != nullptr && info->address_keys.at(0) == "email"});
  }
  return o;
}

Known find_destinations(const config::Loaded& loaded, const std::string& user, const DirectoryLookup& lookup,
                        const std::function<std::chrono::steady_clock::time_point()>& now) {
  const config::Config& cfg = loaded.config;
  Known asked;
  for (const auto& source : cfg.destinations) {
    if (source == "users_file") {
      if (const auto own = loaded.users.listed().find(user); own != loaded.users.listed().end())
        return from_users_file(own->second, false);
    } else if (source == "directory" && cfg.directory) {
      if (auto known = from_directory(*cfg.directory, user, lookup, now, asked)) return std::move(*known);
    }
  }
  const bool file = std::find(cfg.destinations.begin(), cfg.destinations.end(), "users_file") != cfg.destinations.end();
  if (file && loaded.users.wildcard())
    if (auto entry = loaded.users.find(user)) {
      Known k = from_users_file(*entry, true);
      k.asked_directory = asked.asked_directory;
      k.directory_time = asked.directory_time;
      return k;
    }
  asked.status = Known::Status::Nobody;
  asked.why = asked.asked_directory ? "not in the users file, and no entry in the directory" : "not in the users file";
  if (!file) asked.why = "no entry in the directory";
  return asked;
}

Outage outage_of(const Known& known) {
  Outage outage{known.why, std::nullopt, {}, false};
  switch (known.failure) {
    case directory::Failure::Answered:
      outage.remote = true;
      break;
    case directory::Failure::NoAnswer:
      break;
    case directory::Failure::Local:
      outage.never_open = Result::Unavailable;
      outage.never_open_why = "a fault on this machine, not an outage: refused whatever failmode says";
      break;
    case directory::Failure::Refused:
      outage.never_open = Result::ConfigError;
      outage.never_open_why = "the directory refused pam_otp's bind or search (its configuration, or a bind account "
                              "someone locked out): refused whatever failmode says";
      break;
    case directory::Failure::Untrusted:
      outage.never_open = Result::UntrustedProvider;
      outage.never_open_why = "TLS to the directory unverified (certificate, host name, StartTLS): refused whatever "
                              "failmode says, as an on-path attacker causes this";
      break;
    case directory::Failure::Ambiguous:
      outage.never_open = Result::Unavailable;
      outage.never_open_why = "a name must find one entry (check filter and base): refused whatever failmode says";
      break;
  }
  return outage;
}

config::UserEntry with_choice(const Known& known, const Destination& choice) {
  if (!known.from_directory) return known.entry;
  config::UserEntry entry = known.entry;
  // The choice first, then the first of each kind.
  std::vector<Destination> order{choice};
  order.insert(order.end(), known.listed.begin(), known.listed.end());
  for (const auto& d : order) {
    const provider::ChannelInfo* info = provider::find_channel(d.channel);
    if (info == nullptr || d.address.empty()) continue;
    entry.keys.try_emplace(std::string(info->address_keys.at(0)), d.address);
  }
  return entry;
}

}  // namespace otp::flow
