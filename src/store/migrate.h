// pam-otp state migrate: a host's state file copied into the shared store,
// through the Store contract, so that moving a host to the fleet's store
// loses no recovery code's use and no send count. Idempotent: run twice, it
// copies nothing the second time.
#pragma once

#include <string>
#include <vector>

#include "store/sqlite_store.h"
#include "store/store.h"

namespace otp::store {

struct MigrationReport {
  int users_copied = 0;   // recovery codes copied
  int users_present = 0;  // the same codes were there already (uses merged)
  std::vector<std::string> conflicts;  // users with other codes there: left alone
  int remembered_copied = 0;
  int events_copied = 0, events_present = 0;
  // Keyed by this host's hash key, which is not the shared store's: they
  // cannot be matched there (pam-otp state init --key-from avoids it for
  // the first host).
  int remembered_skipped = 0, address_events_skipped = 0;
};

MigrationReport migrate_state(const StateExport& from, Store& to);

}  // namespace otp::store
