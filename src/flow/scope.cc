#include "flow/scope.h"

#include "base/text.h"
#include "config/cidr.h"

namespace otp::flow {
namespace {

ScopeDecision out(std::string rule) { return {false, std::move(rule), {}}; }

// Why a group named by `key` decided nothing, and what that means.
std::string unread(const std::string& key, const std::string& group, const GroupLookup& lookup, const char* meaning) {
  const std::string why = lookup.status == GroupLookup::Status::Missing ? "does not exist"
                                                                        : "cannot be read (" + lookup.error + ")";
  return key + ": group '" + sanitize(group, 64) + "' " + why + "; " + meaning;
}

}  // namespace

ScopeDecision decide_scope(const config::Config& cfg, const UserInfo& user, UserDirectory& directory,
                           const std::string& service, const std::string& rhost) {
  if (listed(cfg.exempt_services, service))
    return out("exempt_services: " + service);
  for (const auto& net : cfg.exempt_networks) {
    const auto cidr = config::Cidr::parse(net);
    if (cidr && cidr->contains(rhost)) return out("exempt_networks: " + rhost + " is in " + net);
  }
  if (cfg.require_groups.empty() && cfg.exempt_groups.empty()) return {};
  const auto gids = directory.group_ids(user);
  ScopeDecision in;
  GroupLookup lookup;
  // Out of scope only when every required group was read and the user is
  // in none of them: a group that cannot be read counts as one they are in.
  bool member = cfg.require_groups.empty();
  std::vector<std::string> unread_required;
  for (const auto& group : cfg.require_groups) {
    const auto is = is_member(directory, user, gids, group, lookup);
    if (!is) unread_required.push_back(unread("require_groups", group, lookup, "treated as a group the user is in"));
    member = member || is.value_or(false);
  }
  if (!member && unread_required.empty()) return out("require_groups: the user is in none of them");
  if (!member) in.problems = std::move(unread_required);
  // Exempt only by a group that was read and has the user in it.
  for (const auto& group : cfg.exempt_groups) {
    const auto is = is_member(directory, user, gids, group, lookup);
    if (is.value_or(false)) return out("exempt_groups: " + group);
    if (!is) in.problems.push_back(unread("exempt_groups", group, lookup, "it exempts nobody"));
  }
  return in;
}

}  // namespace otp::flow
