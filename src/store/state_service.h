// The state service: one long-lived process per machine that holds the
// state file open and answers every login's Store calls over a Unix socket
// (pam_otp/state-helper --serve, started by systemd's pam-otp-state.socket).
// A login then loads and runs none of SQLite: less CPU, latency and memory
// per login than opening the file itself (bench/README.md, "The state
// store"), and, like the per-login helper, nothing the login's caller can
// stop holds a lock. Without a service a login opens the file itself, as
// before. docs/design.md, "The state service".
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/link_store.h"
#include "store/store.h"

namespace otp::store {

// No service listens at the socket (it is missing, or nobody accepts on
// it): the usual case on a machine without one, said nowhere but in debug.
class ServiceAbsent : public PeerUnavailable {
 public:
  using PeerUnavailable::PeerUnavailable;
};

struct ServiceClientOptions {
  std::chrono::milliseconds per_call{2000};  // the service's wait budget plus slack
  // Connect now; ask which file it keeps with the first call (one round
  // trip less), which then throws PeerUnavailable when it keeps another or
  // cannot open it; and each call on a connection of its own, the hello
  // with it (LinkOptions): what a login does.
  bool hello_with_first_call = false;
};

// Connects to the service at `socket` and checks that it runs as root (or
// as this process's effective user) and keeps the state file at `path`.
// Throws ServiceAbsent when nothing listens there, PeerUnavailable when
// something does that is not such a service, Error (its words) when it
// cannot open the file (unless the hello goes with the first call).
std::unique_ptr<Store> open_service_store(const std::string& socket, const std::string& path,
                                          const ServiceClientOptions& options = {});


// `state-helper --serve STATE_FILE [--socket PATH] [--wait-budget MS]
// [--idle SECONDS] [--max-clients N]`: serves until killed, on the socket
// systemd passes (LISTEN_FDS) or one it makes at PATH. Its exit status.
int run_state_service(int argc, char** argv);

}  // namespace otp::store
