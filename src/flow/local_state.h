// The policies built on the local store, for one login: remembered logins,
// the send limit and recovery codes. The store is opened when a policy first
// needs it; when it cannot be, the login goes on as without a store
// (nothing remembered, no send limit, no recovery code) and says so once,
// at LOG_ERR. docs/design.md, "Local state".
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/logger.h"
#include "base/secret.h"
#include "config/config.h"
#include "store/pg_connection.h"
#include "store/store.h"

namespace otp::flow {

using StoreOpener = std::function<std::unique_ptr<store::Store>(const std::string& path)>;
// Opens the shared store (state_store): through its plugin in the module
// (store/pg_plugin.h), directly in pam-otp and the tests (store/pg_store.h).
using SharedStoreOpener =
    std::function<std::unique_ptr<store::Store>(const store::PgConnectOptions& options, std::chrono::milliseconds budget)>;
// The real one: the SQLite store at the path.
StoreOpener sqlite_store_opener();
// The same store through the state helper program at `helper`, for logins
// whose caller could stop the process (store/helper_store.h).
StoreOpener helper_store_opener(std::string helper);

// Who, from where, through what: the key of a remembered login.
struct Client {
  std::string user;     // canonical
  std::string rhost;    // PAM_RHOST; empty for local logins
  std::string service;
  std::string ssh_key;  // the publickey lines of SSH_AUTH_INFO_0, or ""
};

// The publickey lines of sshd's SSH_AUTH_INFO_0 ("publickey ssh-ed25519 AAAA..."), joined.
std::string ssh_keys_of(const std::optional<std::string>& auth_info);

struct SendRefusal {
  std::string limit;  // "send_limit.user 5/15m reached for alice"
  long retry_after = 0;  // seconds
  // Not a limit: the state helper could not run (this machine's failure,
  // which the caller may have caused), so nothing may be sent uncounted.
  bool local = false;
};

enum class RecoveryCheck {
  Accepted,
  Wrong,        // not one of the user's unused codes
  NoCodes,      // the user has none left (or never had any)
  Locked,       // too many wrong recovery codes lately
  Unavailable,  // the store cannot be used
};

struct RecoveryAnswer {
  RecoveryCheck check = RecoveryCheck::Unavailable;
  int left = 0;           // unused codes after this one (Accepted)
  long retry_after = 0;   // seconds (Locked)
};

// Recovery codes a user may try, right or wrong, across logins: this many
// in kRecoveryTryWindow seconds; then recovery is locked until one expires.
inline constexpr int kRecoveryTries = 5;
inline constexpr int kRecoveryTryWindow = 15 * 60;

class LocalState {
 public:
  // counted_sends_only: a send that cannot be counted is refused (su and
  // sudo, whose caller could otherwise make the counting fail) unless the
  // store could not be opened at all (its file or directory is unusable:
  // nothing the caller can cause). use_service: first try the state service
  // at cfg.state_service (store/state_service.h); open only when it is not
  // there or not usable.
  // open_shared: the shared store, when the config names one (state_store);
  // then remembered logins, recovery codes and the send limit live there,
  // and only the send limit falls back to the local store when it cannot
  // be used (docs/design.md, "The shared store").
  LocalState(const config::Config& cfg, StoreOpener open, Logger& log, bool counted_sends_only = false,
             bool use_service = false, SharedStoreOpener open_shared = nullptr)
      : cfg_(cfg), open_(std::move(open)), open_shared_(std::move(open_shared)), log_(log),
        counted_sends_only_(counted_sends_only), use_service_(use_service) {}

  // May this client skip the code (remember, remember_services, rhost)?
  bool remembered(const Client& client, std::int64_t now);
  // After a verified code: remember the client, when the config says so.
  void remember(const Client& client, std::int64_t now);
  // Counts a send for `user` (the destination's owner) and the rhost, or
  // says which limit refuses it.
  std::optional<SendRefusal> take_send(const std::string& user, const std::string& rhost, std::int64_t now);
  // Starts that count before the work that precedes the first send
  // (loading the HTTP plugin), where the store can run it meanwhile (the
  // state service, the helper): the next take_send() for the same user and
  // rhost reads its answer instead of waiting for a count it starts then.
  // A login that ends before it sends has counted a send.
  void take_send_ahead(const std::string& user, const std::string& rhost, std::int64_t now);
  // Does the user have unused recovery codes? false when the store fails too.
  bool has_recovery_codes(const std::string& user);
  // A typed recovery code (normalized), checked and, when right, used up.
  RecoveryAnswer use_recovery_code(const std::string& user, const Secret& code, const std::string& service,
                                   std::int64_t now);

  // The local store, opened on first use; nullptr when it cannot be (logged once).
  store::Store* store();
  // The shared store, when configured and usable (opened on first use);
  // nullptr otherwise (a failure logged once).
  store::Store* shared();

 private:
  struct SendCount {
    std::string user, rhost;
    std::int64_t now = 0;
    std::vector<store::Limit> limits;
    std::vector<std::string> names;  // what each limit is, for the log
    double ahead_wall_ms = 0, ahead_cpu_ms = 0;  // what sending it ahead cost the login
  };
  std::vector<const config::SendLimitRow*> send_limit_rows(const std::string& rhost) const;
  SendCount send_count(store::Store& in, const std::string& user, const std::string& rhost, std::int64_t now);
  std::optional<std::optional<SendRefusal>> take_shared_send(const std::string& user, const std::string& rhost,
                                                             std::int64_t now);
  // Where remembered logins and recovery codes live: the shared store when
  // configured, else the local one; nullptr when it cannot be used.
  store::Store* policy_store();
  void policy_failed(const std::string& what, const std::exception& e);
  void shared_failed(const std::string& what, const std::exception& e);
  std::unique_ptr<store::Store> through_service();
  void service_failed(const std::exception& e);
  void failed(const std::string& what, const std::exception& e);

  const config::Config& cfg_;
  StoreOpener open_;
  SharedStoreOpener open_shared_;
  Logger& log_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Store> shared_;
  bool shared_broken_ = false;
  std::optional<SendCount> ahead_;  // a count sent ahead, not read yet
  bool broken_ = false;
  std::string helper_failure_;  // why the state helper could not run, if it could not
  bool counted_sends_only_;
  bool use_service_;
  bool unusable_at_open_ = false;  // the store said it cannot be opened
  std::string failure_;            // the first failure, for a refusal
};

}  // namespace otp::flow
