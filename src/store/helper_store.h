// The state store through a helper process that whoever started the login
// cannot stop. su and sudo run pam_otp with their caller's real uid, so the
// caller may stop the login (SIGSTOP) at any point, a write transaction
// included, and every other login would then wait on the lock it holds.
// The helper (pam_otp/state-helper beside the module) runs with all its
// uids the module's effective uid (root), in a session of its own and with
// its limits, priority and signal mask reset, so the caller can neither
// signal nor slow it; it runs each Store call as one transaction and holds
// no lock between them. docs/design.md, "The state helper".
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/link_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace otp::store {

struct HelperOptions {
  std::string helper;  // the state helper program
  // The store's wait budget for locks (the helper's), and what the module
  // allows each call beyond it before it gives the helper up.
  std::chrono::milliseconds wait_budget{1000};
  std::chrono::milliseconds slack{1000};
  // How long the helper waits for a request before it ends (a login left
  // at its prompt; the next call starts a new one).
  int idle_seconds = 300;
};

// Starts the helper on the SQLite file at path and waits for it to open
// the store. Throws PeerUnavailable when the helper cannot be run or does
// not answer as a helper does (it is missing, not executable, or this
// machine is out of processes or memory: this machine's failure, which the
// login refuses rather than going on without a send limit), Error (the
// helper's words) when it cannot open the store.
std::unique_ptr<Store> open_helper_store(const std::string& path, const HelperOptions& options);

// The helper program's main loop, over stdin and stdout: opens the store at
// argv[1] (wait budget argv[2] ms), answers "ready", then one request per
// line until end of input or argv[3] seconds without one. Its exit status.
int run_state_helper(int argc, char** argv);

}  // namespace otp::store
