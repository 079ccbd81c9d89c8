#include "store/pg_store.h"

#include <algorithm>
#include <limits>

#include "store/pg_schema.h"

namespace otp::store {
namespace {

std::string to_hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += digits[c >> 4], out += digits[c & 15];
  return out;
}

int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// The server's hex, checked: a value that is not what we wrote is an error.
std::string from_hex(const std::string& hex, const char* what) {
  if (hex.size() % 2 != 0) throw Error(std::string("the shared store returned a damaged ") + what);
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) throw Error(std::string("the shared store returned a damaged ") + what);
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::int64_t integer(const std::optional<std::string>& value, const char* what) {
  if (!value) throw Error(std::string("the shared store returned no ") + what);
  try {
    std::size_t used = 0;
    const long long n = std::stoll(*value, &used);
    if (used == value->size()) return n;
  } catch (const std::exception&) {
  }
  throw Error(std::string("the shared store returned a damaged ") + what);
}

// A text[] literal for a parameter ({"a","b\"c"}): the array's elements are
// data, quoted and escaped, never SQL.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

class PgStore final : public Store {
 public:
  PgStore(PgConnectOptions options, std::chrono::milliseconds budget) : options_(std::move(options)), left_(budget) {}

  Secret hash_key() override {
    if (key_.empty()) {
      const auto rows = call("SELECT pam_otp.hash_key_v1()", {});
      if (rows.size() != 1 || !rows[0][0]) throw Error("the shared store has no hash key (run pam-otp state init)");
      key_ = Secret(from_hex(*rows[0][0], "hash key"));
      if (key_.size() != 32) throw Error("the shared store's hash key is damaged");
    }
    return key_;
  }

  void set_recovery_codes(const std::string& user, const std::string& salt, const std::vector<std::string>& hashes,
                          std::int64_t now) override {
    std::vector<std::string> hex;
    for (const auto& h : hashes) hex.push_back(to_hex(h));
    call("SELECT pam_otp.set_recovery_codes_v1($1, $2, $3, $4)", {user, to_hex(salt), text_array(hex), std::to_string(now)},
         PgRights::admin);
  }

  std::optional<RecoveryBatch> recovery_codes(const std::string& user) override {
    const auto rows = call("SELECT * FROM pam_otp.recovery_codes_v1($1)", {user});
    if (rows.empty()) return std::nullopt;
    RecoveryBatch batch;
    for (const auto& row : rows) {
      if (row.size() != 6 || !row[0]) throw Error("the shared store returned a damaged recovery batch");
      batch.salt = from_hex(*row[0], "salt");
      batch.issued_at = integer(row[1], "issue time");
      if (!row[2]) continue;  // a batch without codes
      RecoveryCode code{integer(row[2], "code id"), from_hex(row[3].value_or(""), "code hash"), std::nullopt,
                        row[5].value_or("")};
      if (row[4]) code.used_at = integer(row[4], "use time");
      batch.codes.push_back(std::move(code));
    }
    return batch;
  }

  bool use_recovery_code(const std::string& user, std::int64_t id, const std::string& hash, std::int64_t now,
                         const std::string& service) override {
    return boolean(call("SELECT pam_otp.use_recovery_code_v1($1, $2, $3, $4, $5)",
                        {user, std::to_string(id), to_hex(hash), std::to_string(now), service}));
  }

  void remember(const Remembered& r) override {
    call("SELECT pam_otp.remember_v1($1, $2, $3, $4, $5)",
         {r.user, r.key_hash, r.service, std::to_string(r.created_at), std::to_string(r.expires_at)});
  }

  bool is_remembered(const std::string& user, const std::string& key_hash, std::int64_t now,
                     std::int64_t not_before) override {
    return boolean(call("SELECT pam_otp.is_remembered_v1($1, $2, $3, $4)",
                        {user, key_hash, std::to_string(now), std::to_string(not_before)}));
  }

  std::vector<Remembered> remembered(const std::string& user, std::int64_t now) override {
    std::vector<Remembered> found;
    for (const auto& row : call("SELECT * FROM pam_otp.remembered_v1($1, $2)", {user, std::to_string(now)}, PgRights::admin)) {
      if (row.size() != 5 || !row[0] || !row[1] || !row[2]) throw Error("the shared store returned a damaged remembered login");
      found.push_back({*row[0], *row[1], *row[2], integer(row[3], "time"), integer(row[4], "expiry")});
    }
    return found;
  }

  std::optional<LimitReached> take(const std::vector<Limit>& limits, std::int64_t now) override {
    std::vector<std::string> kinds, keys, maxes, windows;
    for (const auto& l : limits) {
      kinds.push_back(l.kind);
      keys.push_back(l.key);
      maxes.push_back(std::to_string(l.max));
      windows.push_back(std::to_string(l.window));
    }
    // Connected first, so that the server's wait for another host's lock
    // is measured from what is left then, and ends with time left for its
    // answer to reach us (an error, not counted, rather than our giving up
    // on a count that may then be made).
    connect();
    const auto lock_ms = std::max<long long>(1, left_.count() * 3 / 4);
    const auto rows = call("SELECT * FROM pam_otp.take_v1($1, $2, $3, $4, $5, $6)",
                           {text_array(kinds), text_array(keys), text_array(maxes), text_array(windows),
                            std::to_string(now), std::to_string(lock_ms)});
    if (rows.empty()) return std::nullopt;
    if (rows.size() != 1 || rows[0].size() != 2) throw Error("the shared store returned a damaged count");
    const std::int64_t index = integer(rows[0][0], "limit");
    if (index < 0 || static_cast<std::size_t>(index) >= limits.size()) throw Error("the shared store named a limit it was not given");
    return LimitReached{static_cast<std::size_t>(index), integer(rows[0][1], "wait")};
  }

  int count(const std::string& kind, const std::string& key, std::int64_t since) override {
    const auto rows = call("SELECT pam_otp.count_v1($1, $2, $3)", {kind, key, std::to_string(since)}, PgRights::admin);
    if (rows.size() != 1 || rows[0].size() != 1) throw Error("the shared store returned a damaged count");
    return static_cast<int>(std::clamp<std::int64_t>(integer(rows[0][0], "count"), 0, std::numeric_limits<int>::max()));
  }

  void forget(const std::string& user) override { call("SELECT pam_otp.forget_v1($1)", {user}, PgRights::admin); }
  void forget_rhost(const std::string& rhost_hash) override {
    call("SELECT pam_otp.forget_rhost_v1($1)", {rhost_hash}, PgRights::admin);
  }

 private:
  static bool boolean(const std::vector<PgRow>& rows) {
    if (rows.size() != 1 || rows[0].size() != 1 || !rows[0][0] || (*rows[0][0] != "t" && *rows[0][0] != "f"))
      throw Error("the shared store returned a damaged answer");
    return *rows[0][0] == "t";
  }

  // What is left of the budget is spent on `work`, whatever its outcome.
  template <class Work>
  auto spending(Work work) {
    const auto start = PgClock::now();
    struct Spend {
      PgStore& s;
      PgClock::time_point start;
      ~Spend() {
        s.left_ -= std::chrono::duration_cast<std::chrono::milliseconds>(PgClock::now() - start);
        if (s.left_.count() < 0) s.left_ = std::chrono::milliseconds(0);
      }
    } spend{*this, start};
    if (left_.count() <= 0) throw Error("the store's budget (store_timeout) is spent for this login");
    return work(start + left_);
  }

  void connect() {
    if (conn_ && conn_->usable()) return;
    spending([&](PgClock::time_point deadline) { conn_ = std::make_unique<PgConnection>(options_, deadline); });
  }

  // One statement within what is left of the budget; `rights`: who may
  // run it (pg_schema.h), for the words of a refusal.
  std::vector<PgRow> call(const std::string& sql, const std::vector<std::string>& params,
                          PgRights rights = PgRights::login) {
    try {
      connect();
      return spending([&](PgClock::time_point deadline) { return conn_->run(sql, params, deadline); });
    } catch (const PgError& e) {
      if (e.sqlstate() == "42883" || e.sqlstate() == "3F000")  // undefined_function, invalid_schema_name
        throw Error("the shared store has no pam_otp schema of version " + std::to_string(kPgSchemaVersion) +
                    " (another pam_otp's, or none: pam-otp state init): " + e.what());
      if (e.sqlstate() == "42501" && rights == PgRights::admin)  // insufficient_privilege
        throw Error("the shared store refused " + options_.target.user +
                    " an administrator's function (a login role may not: give --store and --password-file of a role "
                    "pam-otp state init --grant-admin gave them): " + e.what());
      if (e.sqlstate() == "42501")
        throw Error("the shared store refused this role (" + options_.target.user +
                    "; pam-otp state init --grant gives it what a login needs): " + e.what());
      throw;
    }
  }

  PgConnectOptions options_;
  std::chrono::milliseconds left_;
  std::unique_ptr<PgConnection> conn_;
  Secret key_;
};

}  // namespace

std::unique_ptr<Store> open_pg_store(PgConnectOptions options, std::chrono::milliseconds budget) {
  return std::make_unique<PgStore>(std::move(options), budget);
}

}  // namespace otp::store
