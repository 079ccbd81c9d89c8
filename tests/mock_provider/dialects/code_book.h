// Bookkeeping the dialects share: issued codes, failed attempts and the
// locks they lead to, and sends per destination. No HTTP and no locking:
// the MockProvider's mutex serialises every dialect handler.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <string>

#include "otp_engine.h"

namespace otp::mock {

// Whole seconds until `until`, rounded up (a client waiting that long is
// never early), at least 1.
int seconds_until(Clock::time_point until, Clock::time_point now);

enum class CodeCheck {
  ok,       // matched a live code, which is now used
  wrong,    // no live or dead code matches
  expired,  // matched, but past its lifetime or expired by expire_codes()
  used,     // matched a code already accepted once
  none,     // nothing was ever issued under this key
};

// One code per key (a destination, a user, a transaction): issuing a new
// one replaces the old, which is how the providers invalidate earlier codes.
class CodeBook {
 public:
  void issue(const std::string& key, const std::string& code, Clock::time_point expires);
  CodeCheck check(const std::string& key, const std::string& code, Clock::time_point now);
  void expire_all();
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    std::string code;
    Clock::time_point expires;
    bool used = false;
    bool expired = false;
  };
  std::map<std::string, Entry> entries_;
};

// Failed attempts per key, and the lock that enough of them cause.
class FailureLocks {
 public:
  bool locked(const std::string& key, Clock::time_point now) const;
  int seconds_locked(const std::string& key, Clock::time_point now) const;
  // Counts a failure at `now`, forgetting those older than `window` (zero:
  // keep all). True if this failure reaches `max` and so locks the key for
  // `lock`; the count then starts afresh.
  bool fail(const std::string& key, int max, std::chrono::seconds lock, Clock::time_point now,
            std::chrono::seconds window = std::chrono::seconds(0));
  void succeed(const std::string& key);  // forgets the key's failures
  void clear() { keys_.clear(); }

 private:
  struct State {
    std::deque<Clock::time_point> failures;
    Clock::time_point locked_until{};
  };
  std::map<std::string, State> keys_;
};

// Sends per destination within a sliding window.
class SendWindow {
 public:
  // 0 if another send is allowed now (and counts it); else the seconds
  // until one will be.
  int try_send(const std::string& to, int max, int window_seconds, Clock::time_point now);
  void clear() { sends_.clear(); }

 private:
  std::map<std::string, std::deque<Clock::time_point>> sends_;
};

}  // namespace otp::mock
