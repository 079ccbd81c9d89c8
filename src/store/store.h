// pam_otp's local state: recovery codes, remembered logins and event
// counters (codes sent, recovery codes tried), behind a small interface so
// that the flow never sees SQL and another backend can be added. The one
// backend today is SQLite (sqlite_store.h). docs/design.md, "Local state".
//
// Times are Unix seconds. Every method may throw store::Error (the database
// cannot be read or written, or waiting for it took too long); callers treat
// that as "no state" and go on as a login without a store would.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/secret.h"

namespace otp::store {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A call sent whose answer never came (the store's budget ran out while it
// ran, the connection broke): it may have run, and what it writes (a count)
// may be there.
class MayHaveRun : public Error {
 public:
  using Error::Error;
};

struct RecoveryCode {
  std::int64_t id = 0;
  std::string hash;  // the slow salted hash of the code (recovery.h)
  std::optional<std::int64_t> used_at;
  std::string used_by;  // the service that used it
};

// One user's codes, issued together, with the salt they share.
struct RecoveryBatch {
  std::string salt;
  std::int64_t issued_at = 0;
  std::vector<RecoveryCode> codes;
};

// A login that may skip the code until expires_at. key_hash is a keyed hash
// of what identifies the client (rhost, service, SSH key); never the rhost.
struct Remembered {
  std::string user;
  std::string key_hash;
  std::string service;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
};

// The kinds of events the store counts, and what their keys are.
inline constexpr char kSendUser[] = "send_user";             // a user name
inline constexpr char kSendRhost[] = "send_rhost";           // the rhost's keyed hash
inline constexpr char kSendUserRhost[] = "send_user_rhost";  // the rhost's keyed hash, ':', a user name
inline constexpr char kRecoveryTried[] = "recovery_tried";   // a user name

// The key of a kSendUserRhost event: the rhost's keyed hash (64 hex
// digits, keyed_hash.h), ':', the user name.
inline std::string user_rhost_key(const std::string& rhost_hash, const std::string& user) {
  return rhost_hash + ":" + user;
}

// At most `max` events of kind under key in the last `window` seconds.
struct Limit {
  std::string kind;  // one of the kinds above
  std::string key;
  int max = 0;
  std::int64_t window = 0;
};

// The limit that stopped take(): its index, and when a slot frees.
struct LimitReached {
  std::size_t index = 0;
  std::int64_t retry_after = 0;  // seconds
};

class Store {
 public:
  virtual ~Store() = default;

  // 32 random bytes made when the store was created, for keyed hashes.
  virtual Secret hash_key() = 0;

  // Replaces USER's recovery codes (empty hashes: removes them).
  virtual void set_recovery_codes(const std::string& user, const std::string& salt,
                                  const std::vector<std::string>& hashes, std::int64_t now) = 0;
  virtual std::optional<RecoveryBatch> recovery_codes(const std::string& user) = 0;
  // Marks the code (id, with this hash: ids are reused when codes are
  // reissued) used; true only for the one caller that did (two logins
  // racing for one code: one wins).
  virtual bool use_recovery_code(const std::string& user, std::int64_t id, const std::string& hash,
                                 std::int64_t now, const std::string& service) = 0;

  virtual void remember(const Remembered& login) = 0;
  // Remembered now, from a login made after not_before (a shorter
  // `remember` than when it was stored applies too).
  virtual bool is_remembered(const std::string& user, const std::string& key_hash, std::int64_t now,
                             std::int64_t not_before) = 0;
  // USER's unexpired remembered logins; every user's for "".
  virtual std::vector<Remembered> remembered(const std::string& user, std::int64_t now) = 0;

  // Records one event under each limit's kind and key, unless one of them
  // is reached; then records nothing and says which. Atomic.
  virtual std::optional<LimitReached> take(const std::vector<Limit>& limits, std::int64_t now) = 0;
  // Starts that take() where the backend can overlap it with the caller's
  // work (a process on the other end runs it meanwhile); the next call must
  // be the take() with the same arguments, which reads its answer. The
  // default does nothing: take() does it all.
  virtual void take_ahead(const std::vector<Limit>& /*limits*/, std::int64_t /*now*/) {}
  // Events of kind under key since `since`.
  virtual int count(const std::string& kind, const std::string& key, std::int64_t since) = 0;

  // Removes USER's remembered logins and the events keyed by the name
  // (their sends, from any address, and recovery codes tried).
  virtual void forget(const std::string& user) = 0;
  // Removes the send events of the rhost whose keyed hash this is (every
  // user's from it too).
  virtual void forget_rhost(const std::string& rhost_hash) = 0;
};

}  // namespace otp::store
