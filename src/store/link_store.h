// A Store whose calls travel as protocol lines (helper_protocol.h) over a
// socket to the process that holds the real store: the state helper, one
// per login (helper_store.h), or the state service, one per machine
// (state_service.h). What differs between the two is the Peer: how the
// socket is made, what its first answer must say and how it is ended.
#pragma once

#include <json/value.h>

#include <chrono>
#include <memory>
#include <string>

#include "store/store.h"

namespace otp::store {

// The far end could not be reached, or did not answer as it should before
// its first answer (it has not shown it is what it claims to be).
class PeerUnavailable : public Error {
 public:
  using Error::Error;
};

class Peer {
 public:
  virtual ~Peer() = default;
  // "the state helper /usr/lib/.../state-helper": for messages.
  virtual std::string name() const = 0;
  // A connected socket (non-blocking or not); throws PeerUnavailable.
  virtual int open() = 0;
  // The line that asks for the first answer ("" when the peer answers
  // unasked, as the helper does).
  virtual std::string hello() const { return ""; }
  // Checks the first answer's result; throws PeerUnavailable.
  virtual void check_ready(const Json::Value& result) = 0;
  // Ends it after its socket is closed (at once when `kill`); words to add
  // to a failure (" (it exited with status 1)"), or "".
  virtual std::string close(bool kill) = 0;
};

struct LinkOptions {
  // How long each call may take before the peer is given up (its own wait
  // for locks plus slack).
  std::chrono::milliseconds per_call{2000};
  // The hello goes out with the first call instead of at once: one round
  // trip less. That call then throws PeerUnavailable when the first answer
  // is not what it should be (nothing of the call was run).
  bool hello_with_first_call = false;
  // Each call on a connection of its own, ended by the peer after its
  // answer (its hello with it): one wake-up of the peer per call, where a
  // kept connection costs one more for its close.
  bool connection_per_call = false;
};

// Opens the link (Peer::open, then the first answer, unless it comes with
// the first call) and returns the store. Throws PeerUnavailable when that
// fails, Error when the peer answers that it cannot open the store (its
// words).
std::unique_ptr<Store> open_link_store(std::unique_ptr<Peer> peer, const LinkOptions& options);

}  // namespace otp::store
