#include "store/migrate.h"

#include <limits>
#include <map>
#include <tuple>

namespace otp::store {
namespace {

std::vector<std::string> hashes_of(const RecoveryBatch& b) {
  std::vector<std::string> out;
  for (const auto& c : b.codes) out.push_back(c.hash);
  return out;
}

// A code used on this host stays used there: uses are merged (the nth code
// of one batch is the same code on both sides).
void merge_uses(const std::string& user, const RecoveryBatch& from, const RecoveryBatch& there, Store& to) {
  for (std::size_t i = 0; i < from.codes.size() && i < there.codes.size(); ++i)
    if (from.codes[i].used_at && !there.codes[i].used_at)
      to.use_recovery_code(user, there.codes[i].id, there.codes[i].hash, *from.codes[i].used_at, from.codes[i].used_by);
}

void copy_recovery(const StateExport& from, Store& to, MigrationReport& r) {
  for (const auto& [user, batch] : from.recovery) {
    auto there = to.recovery_codes(user);
    if (there && (there->salt != batch.salt || hashes_of(*there) != hashes_of(batch))) {
      r.conflicts.push_back(user + " has other recovery codes in the shared store (left as they are: pam-otp recovery "
                                   "issue " + user + " makes a new set for the fleet)");
      continue;
    }
    if (there) {
      ++r.users_present;
    } else {
      to.set_recovery_codes(user, batch.salt, hashes_of(batch), batch.issued_at);
      there = to.recovery_codes(user);
      if (!there) throw Error("the shared store did not keep " + user + "'s recovery codes");
      ++r.users_copied;
    }
    merge_uses(user, batch, *there, to);
  }
}

bool keyed_by_address(const std::string& kind) { return kind == kSendRhost || kind == kSendUserRhost; }

// Events are copied per (kind, key, second): as many as this host has at
// that second, less those already there (so a second run adds none).
void copy_events(const StateExport& from, Store& to, bool same_key, MigrationReport& r) {
  std::map<std::tuple<std::string, std::string, std::int64_t>, int> groups;
  for (const auto& e : from.events) ++groups[{e.kind, e.key, e.at}];
  for (const auto& [group, n] : groups) {
    const auto& [kind, key, at] = group;
    if (!same_key && keyed_by_address(kind)) {
      r.address_events_skipped += n;
      continue;
    }
    const int present = to.count(kind, key, at - 1) - to.count(kind, key, at);
    for (int i = present; i < n; ++i) to.take({{kind, key, std::numeric_limits<int>::max(), 1}}, at);
    r.events_copied += std::max(0, n - present);
    r.events_present += std::min(n, present);
  }
}

}  // namespace

MigrationReport migrate_state(const StateExport& from, Store& to) {
  MigrationReport r;
  const bool same_key = to.hash_key().reveal() == from.hash_key.reveal();
  copy_recovery(from, to, r);
  for (const auto& login : from.remembered) {
    if (!same_key) {
      ++r.remembered_skipped;
      continue;
    }
    to.remember(login);
    ++r.remembered_copied;
  }
  copy_events(from, to, same_key, r);
  return r;
}

}  // namespace otp::store
