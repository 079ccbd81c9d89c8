#include "flow/scope.h"

#include <algorithm>

#include "base/text.h"
#include "config/cidr.h"

namespace otp::flow {
namespace {

ScopeDecision out(std::string rule) { return {false, std::move(rule)}; }

const std::string* first_shared(const std::vector<std::string>& wanted, const std::vector<std::string>& have) {
  for (const auto& w : wanted)
    if (listed(have, w)) return &w;
  return nullptr;
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
  const auto groups = directory.group_names(user);
  if (!cfg.require_groups.empty() && first_shared(cfg.require_groups, groups) == nullptr)
    return out("require_groups: the user is in none of them");
  if (const auto* group = first_shared(cfg.exempt_groups, groups)) return out("exempt_groups: " + *group);
  return {};
}

}  // namespace otp::flow
