#include "store/pg_plugin.h"

#include <mutex>
#include <type_traits>
#include <utility>

#include "base/plugin_loader.h"

namespace otp::store {
namespace {

PgPluginEntry open_plugin(const std::string& path, const char* symbol, std::string& why) {
  return reinterpret_cast<PgPluginEntry>(load_plugin_symbol(path, symbol, "the shared store's plugin", why));
}

PgPluginEntry load(const std::string& path, std::string& why) {
  static std::mutex mutex;
  static PgPluginEntry entry = nullptr;
  const std::lock_guard lock(mutex);
  if (entry == nullptr) entry = open_plugin(path, PAM_OTP_PG_PLUGIN_SYMBOL, why);
  return entry;
}

// Loads the plugin at the first call, so that opening costs nothing.
class PluginStore final : public Store {
 public:
  PluginStore(std::string path, PgConnectOptions options, std::chrono::milliseconds budget)
      : path_(std::move(path)), options_(std::move(options)), budget_(budget) {}

  Secret hash_key() override { return inner().hash_key(); }
  void set_recovery_codes(const std::string& user, const std::string& salt, const std::vector<std::string>& hashes,
                          std::int64_t now) override {
    inner().set_recovery_codes(user, salt, hashes, now);
  }
  std::optional<RecoveryBatch> recovery_codes(const std::string& user) override { return inner().recovery_codes(user); }
  bool use_recovery_code(const std::string& user, std::int64_t id, const std::string& hash, std::int64_t now,
                         const std::string& service) override {
    return inner().use_recovery_code(user, id, hash, now, service);
  }
  void remember(const Remembered& login) override { inner().remember(login); }
  bool is_remembered(const std::string& user, const std::string& key_hash, std::int64_t now,
                     std::int64_t not_before) override {
    return inner().is_remembered(user, key_hash, now, not_before);
  }
  std::vector<Remembered> remembered(const std::string& user, std::int64_t now) override {
    return inner().remembered(user, now);
  }
  std::optional<LimitReached> take(const std::vector<Limit>& limits, std::int64_t now) override {
    return inner().take(limits, now);
  }
  int count(const std::string& kind, const std::string& key, std::int64_t since) override {
    return inner().count(kind, key, since);
  }
  void forget(const std::string& user) override { inner().forget(user); }
  void forget_rhost(const std::string& rhost_hash) override { inner().forget_rhost(rhost_hash); }

 private:
  Store& inner() {
    if (store_) return *store_;
    std::string why;
    const PgPluginEntry entry = load(path_, why);
    if (entry == nullptr) throw Error(why);
    store_.reset(entry(&options_, budget_.count()));
    if (!store_) throw Error("the shared store's plugin " + path_ + " cannot make a store");
    return *store_;
  }

  std::string path_;
  PgConnectOptions options_;
  std::chrono::milliseconds budget_;
  std::unique_ptr<Store> store_;
};

}  // namespace

std::unique_ptr<Store> plugin_pg_store(std::string path, PgConnectOptions options, std::chrono::milliseconds budget) {
  return std::make_unique<PluginStore>(std::move(path), std::move(options), budget);
}

std::optional<std::string> pg_plugin_problem(const std::string& path, const std::string& symbol) {
  std::string why;
  if (open_plugin(path, symbol.c_str(), why) != nullptr) return std::nullopt;
  return why;
}

}  // namespace otp::store
