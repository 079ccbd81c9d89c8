#include "flow/local_state.h"

#include <algorithm>
#include <functional>
#include <type_traits>

#include "base/stopwatch.h"
#include "base/text.h"
#include "config/cidr.h"
#include "flow/ssh_auth_info.h"
#include "store/helper_store.h"
#include "store/keyed_hash.h"
#include "store/recovery_codes.h"
#include "store/sqlite_store.h"
#include "store/state_service.h"

namespace otp::flow {

StoreOpener sqlite_store_opener() {
  return [](const std::string& path) { return store::open_sqlite_store(path); };
}

StoreOpener helper_store_opener(std::string helper) {
  return [helper = std::move(helper)](const std::string& path) {
    return store::open_helper_store(path, {helper});
  };
}

std::string ssh_keys_of(const std::optional<std::string>& auth_info) {
  std::string keys;
  if (!auth_info) return keys;
  for (const auto& step : ssh_auth_steps(*auth_info))
    if (step.method == "publickey") keys.append(step.line).append("\n");
  return keys;
}

store::Store* LocalState::store() {
  if (store_ || broken_) return store_.get();
  store_ = through_service();
  if (store_) return store_.get();
  try {
    store_ = open_(cfg_.state_file);
  } catch (const store::PeerUnavailable& e) {
    helper_failure_ = sanitize(e.what(), 300);
    failed("cannot run the state helper", e);
  } catch (const std::exception& e) {
    unusable_at_open_ = true;
    failed("cannot open the state file", e);
  }
  return store_.get();
}

namespace {

// The state service's store, whose first call carries the hello (one round
// trip less than asking first): when the service refuses that hello
// (another file, or it cannot open it; PeerUnavailable), nothing of the call
// ran there, and it and every later call go to the store `open_file` gives
// instead. (A first call whose answers never came is a store failure: it
// may have run.)
class ServiceThenFile final : public store::Store {
 public:
  using Fallback = std::function<std::unique_ptr<store::Store>()>;
  using Said = std::function<void(const std::exception&)>;
  ServiceThenFile(std::unique_ptr<store::Store> service, Fallback open_file, Said said, std::function<void()> used)
      : current_(std::move(service)), open_file_(std::move(open_file)), said_(std::move(said)), used_(std::move(used)) {}

  Secret hash_key() override { return run([&](Store& s) { return s.hash_key(); }); }
  void set_recovery_codes(const std::string& user, const std::string& salt, const std::vector<std::string>& hashes,
                          std::int64_t now) override {
    run([&](Store& s) { return s.set_recovery_codes(user, salt, hashes, now), true; });
  }
  std::optional<store::RecoveryBatch> recovery_codes(const std::string& user) override {
    return run([&](Store& s) { return s.recovery_codes(user); });
  }
  bool use_recovery_code(const std::string& user, std::int64_t id, const std::string& hash, std::int64_t now,
                         const std::string& service) override {
    return run([&](Store& s) { return s.use_recovery_code(user, id, hash, now, service); });
  }
  void remember(const store::Remembered& login) override { run([&](Store& s) { return s.remember(login), true; }); }
  bool is_remembered(const std::string& user, const std::string& key_hash, std::int64_t now,
                     std::int64_t not_before) override {
    return run([&](Store& s) { return s.is_remembered(user, key_hash, now, not_before); });
  }
  std::vector<store::Remembered> remembered(const std::string& user, std::int64_t now) override {
    return run([&](Store& s) { return s.remembered(user, now); });
  }
  std::optional<store::LimitReached> take(const std::vector<store::Limit>& limits, std::int64_t now) override {
    return run([&](Store& s) { return s.take(limits, now); });
  }
  // (To whichever store is current: when the service then refuses the
  // hello that went with it, take() sends it to the file, as above.)
  void take_ahead(const std::vector<store::Limit>& limits, std::int64_t now) override {
    if (current_) current_->take_ahead(limits, now);
  }
  int count(const std::string& kind, const std::string& key, std::int64_t since) override {
    return run([&](Store& s) { return s.count(kind, key, since); });
  }
  void forget(const std::string& user) override { run([&](Store& s) { return s.forget(user), true; }); }
  void forget_rhost(const std::string& rhost_hash) override {
    run([&](Store& s) { return s.forget_rhost(rhost_hash), true; });
  }

 private:
  template <class Call>
  std::invoke_result_t<Call, Store&> run(Call call) {
    if (open_file_) {
      try {
        auto result = call(*current_);
        open_file_ = nullptr;  // the service answered: it is the store
        used_();
        return result;
      } catch (const store::PeerUnavailable& e) {
        said_(e);
        current_.reset();
        const Fallback open_file = std::move(open_file_);
        open_file_ = nullptr;
        current_ = open_file();  // (when it throws, current_ stays empty: below)
      }
    }
    if (!current_) throw store::Error("the state service refused this login and the state file could not be opened");
    return call(*current_);
  }

  std::unique_ptr<store::Store> current_;
  Fallback open_file_;  // empty once the service has answered or been given up
  Said said_;
  std::function<void()> used_;
};

}  // namespace

// The service when something listens at state_service (its first call
// tells whether it is usable); nullptr (said, unless nothing listens) to
// open the file instead.
std::unique_ptr<store::Store> LocalState::through_service() {
  if (!use_service_ || cfg_.state_service.empty()) return nullptr;
  try {
    auto service = store::open_service_store(cfg_.state_service, cfg_.state_file, {.hello_with_first_call = true});
    return std::make_unique<ServiceThenFile>(
        std::move(service), [this] { return open_(cfg_.state_file); },
        [this](const std::exception& e) { service_failed(e); },
        [this] {
          if (cfg_.debug) log_.log(LOG_DEBUG, "state: through the state service at " + cfg_.state_service);
        });
  } catch (const std::exception& e) {
    service_failed(e);
  }
  return nullptr;
}

void LocalState::service_failed(const std::exception& e) {
  if (dynamic_cast<const store::ServiceAbsent*>(&e) != nullptr) {
    if (cfg_.debug) log_.log(LOG_DEBUG, "state: no state service (" + sanitize(e.what(), 300) + ")");
    return;
  }
  log_.log(LOG_WARNING, "state: not using the state service: " + sanitize(e.what(), 300) +
                            "; this login opens the state file itself");
}

// Once per login: the first failure says what is off; later ones add nothing.
void LocalState::failed(const std::string& what, const std::exception& e) {
  if (!broken_) {
    failure_ = what + ": " + sanitize(e.what(), 300);
    log_.log(LOG_ERR, "state: " + failure_ +
                          "; for this login no remembered login, recovery code or send limit applies "
                          "(pam-otp check shows the state file's health)");
  }
  broken_ = true;
  store_.reset();
}

store::Store* LocalState::shared() {
  if (!cfg_.store_target || shared_broken_) return nullptr;
  if (shared_) return shared_.get();
  try {
    if (!open_shared_) throw store::Error("this program cannot reach a shared store");
    store::PgConnectOptions options{*cfg_.store_target, cfg_.state_password};
    shared_ = open_shared_(options, std::chrono::milliseconds(cfg_.store_timeout_ms));
  } catch (const std::exception& e) {
    shared_failed("cannot open the shared store", e);
  }
  return shared_.get();
}

// Once per login, as failed() for the local store.
void LocalState::shared_failed(const std::string& what, const std::exception& e) {
  if (!shared_broken_)
    log_.log(LOG_ERR, "state: " + what + " (" + store::describe(*cfg_.store_target) + "): " + sanitize(e.what(), 300) +
                          "; for this login no remembered login is honoured, no recovery code is accepted, and the "
                          "send limit is counted in the local state file (pam-otp check tests the shared store)");
  shared_broken_ = true;
  shared_.reset();
}

store::Store* LocalState::policy_store() { return cfg_.store_target ? shared() : store(); }

void LocalState::policy_failed(const std::string& what, const std::exception& e) {
  if (cfg_.store_target) shared_failed(what, e);
  else failed(what, e);
}

namespace {

std::string client_key(const Client& c) { return c.user + '\0' + c.rhost + '\0' + c.service + '\0' + c.ssh_key; }

// remember is on for the service, and the client is an IP address: with
// sshd's UseDNS yes PAM_RHOST is a host name, which whoever controls the
// client's DNS zone can make match.
bool rememberable(const config::Config& cfg, const Client& c) {
  return cfg.remember > 0 && config::is_ip_address(c.rhost) && listed(cfg.remember_services, c.service);
}

}  // namespace

bool LocalState::remembered(const Client& client, std::int64_t now) {
  if (!rememberable(cfg_, client)) return false;
  store::Store* s = policy_store();
  if (s == nullptr) return false;
  try {
    return s->is_remembered(client.user, store::keyed_hash(s->hash_key(), "remember", client_key(client)), now,
                            now - cfg_.remember);
  } catch (const std::exception& e) {
    policy_failed("cannot look up remembered logins", e);
    return false;
  }
}

void LocalState::remember(const Client& client, std::int64_t now) {
  if (!rememberable(cfg_, client)) return;
  store::Store* s = policy_store();
  if (s == nullptr) return;
  try {
    s->remember({client.user, store::keyed_hash(s->hash_key(), "remember", client_key(client)), client.service, now,
                 now + cfg_.remember});
  } catch (const std::exception& e) {
    policy_failed("cannot remember the login", e);
  }
}

namespace {

std::string_view event_kind(config::SendScope scope) {
  switch (scope) {
    case config::SendScope::User: return store::kSendUser;
    case config::SendScope::Rhost: return store::kSendRhost;
    case config::SendScope::UserRhost: return store::kSendUserRhost;
  }
  return store::kSendUser;  // not reached: every scope has its case
}

}  // namespace

// The limits that apply to a send: those on, and per address only with one.
std::vector<const config::SendLimitRow*> LocalState::send_limit_rows(const std::string& rhost) const {
  std::vector<const config::SendLimitRow*> rows;
  for (const auto& row : config::kSendLimits)
    if (cfg_.send_limit[row.scope].on() && (row.scope == config::SendScope::User || !rhost.empty())) rows.push_back(&row);
  return rows;
}

// Each limit's kind, key and size, and what it is for the log. May throw
// (the rhost's keyed hash needs the store's key).
LocalState::SendCount LocalState::send_count(store::Store& in, const std::string& user, const std::string& rhost,
                                             std::int64_t now) {
  SendCount count{user, rhost, now, {}, {}};
  // The address is stored as a keyed hash, whose key is in the store.
  const std::string rhost_hash =
      rhost.empty() ? std::string() : store::keyed_hash(in.hash_key(), "rhost", config::canonical_address(rhost));
  for (const auto* row : send_limit_rows(rhost)) {
    const config::RateLimit& limit = cfg_.send_limit[row->scope];
    std::string key = row->scope == config::SendScope::User    ? user
                      : row->scope == config::SendScope::Rhost ? rhost_hash
                                                               : store::user_rhost_key(rhost_hash, user);
    count.limits.push_back({std::string(event_kind(row->scope)), std::move(key), limit.max, limit.window});
    count.names.push_back("send_limit." + std::string(row->key) + " " + config::rate_limit_text(limit) + " reached for " +
                          (row->scope == config::SendScope::Rhost ? sanitize(rhost, 100) : user) +
                          (row->scope == config::SendScope::UserRhost ? " from " + sanitize(rhost, 100) : ""));
  }
  return count;
}

void LocalState::take_send_ahead(const std::string& user, const std::string& rhost, std::int64_t now) {
  const Stopwatch watch;
  // (The shared store counts in take_send: it has nothing to overlap.)
  if (send_limit_rows(rhost).empty() || shared() != nullptr || store() == nullptr) return;
  try {
    ahead_ = send_count(*store_, user, rhost, now);
    store_->take_ahead(ahead_->limits, now);
    ahead_->ahead_wall_ms = watch.wall_ms();
    ahead_->ahead_cpu_ms = watch.cpu_ms();
  } catch (const std::exception& e) {
    ahead_.reset();
    failed("cannot count codes sent", e);  // (what take_send would say; it then says no more)
  }
}

// The send counted in the shared store: its answer, or nullopt when the
// shared store is not configured or cannot be used (then the local store
// counts). A count that went out and whose answer never came may or may not
// have been made there (pgbouncer drops a queued query when we give up): it
// is counted locally too, so that the limit never disappears; at worst that
// send counts twice.
std::optional<std::optional<SendRefusal>> LocalState::take_shared_send(const std::string& user,
                                                                       const std::string& rhost, std::int64_t now) {
  if (shared() == nullptr) return std::nullopt;
  const Stopwatch watch;
  try {
    const SendCount count = send_count(*shared_, user, rhost, now);
    const auto reached = shared_->take(count.limits, count.now);
    if (cfg_.debug) log_.log(LOG_DEBUG, "state: send limits checked in the shared store (" + watch.text() + ")");
    if (!reached) return std::optional<SendRefusal>();
    return std::optional<SendRefusal>(SendRefusal{count.names.at(reached->index), reached->retry_after});
  } catch (const store::MayHaveRun& e) {
    shared_failed("the shared store did not answer a count it may or may not have made (counted here too)", e);
    return std::nullopt;
  } catch (const std::exception& e) {
    shared_failed("cannot count codes sent in the shared store", e);
    return std::nullopt;
  }
}

std::optional<SendRefusal> LocalState::take_send(const std::string& user, const std::string& rhost, std::int64_t now) {
  if (send_limit_rows(rhost).empty()) return std::nullopt;
  if (auto shared_answer = take_shared_send(user, rhost, now)) return *shared_answer;
  auto refuse = [](std::string why) { return std::optional<SendRefusal>({std::move(why), 0, true}); };
  const Stopwatch watch;
  // The count sent ahead for this send, if any (its time, not the work
  // it overlapped, is added to the count's).
  std::optional<SendCount> ahead = std::move(ahead_);
  ahead_.reset();
  if (ahead && (ahead->user != user || ahead->rhost != rhost)) ahead.reset();
  if (store() == nullptr) {
    if (!helper_failure_.empty()) return refuse("the state helper could not run: " + helper_failure_);
    if (counted_sends_only_ && !unusable_at_open_) return refuse("the send cannot be counted (" + failure_ + ")");
    return std::nullopt;
  }
  try {
    const SendCount count = ahead ? std::move(*ahead) : send_count(*store_, user, rhost, now);
    auto reached = store_->take(count.limits, count.now);
    if (cfg_.debug)
      log_.log(LOG_DEBUG, "state: send limits checked in the state store (" +
                              Stopwatch::text(watch.wall_ms() + count.ahead_wall_ms, watch.cpu_ms() + count.ahead_cpu_ms) +
                              (ahead ? "; sent ahead" : "") + ")");
    if (reached) {
      if (reached->index >= count.names.size()) throw store::Error("the store named a limit it was not given");
      return SendRefusal{count.names[reached->index], reached->retry_after};
    }
  } catch (const std::exception& e) {
    failed("cannot count codes sent", e);
    if (counted_sends_only_) return refuse("the send cannot be counted (" + failure_ + ")");
  }
  return std::nullopt;
}

bool LocalState::has_recovery_codes(const std::string& user) {
  store::Store* s = policy_store();
  if (s == nullptr) return false;
  try {
    const auto batch = s->recovery_codes(user);
    return batch && std::any_of(batch->codes.begin(), batch->codes.end(), [](const auto& c) { return !c.used_at; });
  } catch (const std::exception& e) {
    policy_failed("cannot read recovery codes", e);
    return false;
  }
}

RecoveryAnswer LocalState::use_recovery_code(const std::string& user, const Secret& code, const std::string& service,
                                             std::int64_t now) {
  store::Store* s = policy_store();
  if (s == nullptr) return {};
  try {
    // Every code tried counts, before anything is looked at: logins racing
    // in parallel cannot try more than the limit between them, and a user
    // without codes costs the same tries as one with them.
    const store::Limit tries{store::kRecoveryTried, user, kRecoveryTries, kRecoveryTryWindow};
    if (const auto reached = s->take({tries}, now)) return {RecoveryCheck::Locked, 0, reached->retry_after};
    const auto batch = s->recovery_codes(user);
    const bool any = batch && std::any_of(batch->codes.begin(), batch->codes.end(), [](const auto& c) { return !c.used_at; });
    // Hashed either way, so that the time taken does not tell whoever has
    // the password whether the owner has recovery codes.
    static const std::string kNoCodesSalt(16, '\x5a');
    const std::string hash = store::hash_recovery_code(code, any ? batch->salt : kNoCodesSalt);
    if (!any) return {RecoveryCheck::NoCodes};
    int left = 0;
    std::optional<std::int64_t> match;
    for (const auto& c : batch->codes) {
      if (c.used_at) continue;
      if (!match && store::same_hash(c.hash, hash)) match = c.id;
      else ++left;
    }
    if (match && s->use_recovery_code(user, *match, hash, now, service)) return {RecoveryCheck::Accepted, left};
    return {RecoveryCheck::Wrong};
  } catch (const std::exception& e) {
    policy_failed("cannot check the recovery code", e);
    return {};
  }
}

}  // namespace otp::flow
