// What the store reads back: a state file holding anything (a damaged or
// hand-edited file; every column of every table with any SQLite type and
// value), then the store's reads and the login policies over it. They may
// refuse (store::Error, caught by the policies) but never crash, leak or
// let a recovery code through that nobody made.
#include <fuzzer/FuzzedDataProvider.h>
#include <sqlite3.h>

#include <memory>
#include <string>

#include "flow/local_state.h"
#include "fuzz_check.h"
#include "store/recovery_codes.h"
#include "store/sqlite_store.h"
#include "temp_dir.h"

namespace {

using otp::store::Store;

class SilentLogger final : public otp::Logger {
 public:
  void log(int, const std::string&) override {}
};

struct Setup {
  otp::testing::TempDir dir;
  std::string path = dir.path() + "/state/state.db";
  sqlite3* raw = nullptr;
  Setup() {
    otp::store::open_sqlite_store(path).reset();  // the schema
    CHECK(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

const char* const kInserts[] = {
    "INSERT INTO meta(name, value) VALUES(?1, ?2)",
    "INSERT INTO recovery_batches(user, salt, issued_at) VALUES(?1, ?2, ?3)",
    "INSERT INTO recovery_codes(id, user, hash, used_at, used_by) VALUES(?4, ?1, ?2, ?3, ?5)",
    "INSERT INTO remembered(user, key_hash, service, created_at, expires_at) VALUES(?1, ?2, ?5, ?3, ?4)",
    "INSERT INTO events(kind, key, at) VALUES(?1, ?2, ?3)",
};

// One value of any storage class.
void bind_any(sqlite3_stmt* stmt, int index, FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0: sqlite3_bind_null(stmt, index); break;
    case 1: sqlite3_bind_int64(stmt, index, in.ConsumeIntegral<std::int64_t>()); break;
    case 2: sqlite3_bind_double(stmt, index, in.ConsumeFloatingPoint<double>()); break;
    case 3: {
      const std::string text = in.ConsumeRandomLengthString(64);
      sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      break;
    }
    case 4: {
      const std::string bytes = in.ConsumeRandomLengthString(64);
      sqlite3_bind_blob(stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
      break;
    }
    default: {  // the names the code looks for
      static const char* const kWords[] = {"alice", "hash_key", "send_user", "send_rhost", "recovery_tried", "sshd"};
      const char* word = kWords[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kWords) - 1)];
      sqlite3_bind_text(stmt, index, word, -1, SQLITE_STATIC);
    }
  }
}

void fill(sqlite3* db, FuzzedDataProvider& in) {
  sqlite3_exec(db, "DELETE FROM meta WHERE name <> 'hash_key'; DELETE FROM recovery_batches; "
                   "DELETE FROM recovery_codes; DELETE FROM remembered; DELETE FROM events;",
               nullptr, nullptr, nullptr);
  if (in.ConsumeBool()) sqlite3_exec(db, "DELETE FROM meta", nullptr, nullptr, nullptr);
  for (int rows = in.ConsumeIntegralInRange(0, 12); rows > 0; --rows) {
    const char* sql = kInserts[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kInserts) - 1)];
    sqlite3_stmt* stmt = nullptr;
    CHECK(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
    for (int i = 1; i <= sqlite3_bind_parameter_count(stmt); ++i) bind_any(stmt, i, in);
    sqlite3_step(stmt);  // constraints may refuse it
    sqlite3_finalize(stmt);
  }
}

void read_back(Store& store, FuzzedDataProvider& in, std::int64_t now) {
  try {
    if (auto batch = store.recovery_codes("alice"))
      for (const auto& c : batch->codes) (void)c.hash.size();
    for (const auto& r : store.remembered(in.ConsumeBool() ? "" : "alice", now)) CHECK(r.expires_at > now);
    (void)store.is_remembered("alice", in.ConsumeRandomLengthString(70), now, now - 600);
    (void)store.count("send_user", "alice", now - 900);
    const otp::store::Limit limit{"send_user", "alice", in.ConsumeIntegralInRange(1, 5),
                                  in.ConsumeIntegralInRange<std::int64_t>(1, 30 * 86400)};
    if (const auto reached = store.take({limit}, now)) CHECK(reached->retry_after >= 1 && reached->index == 0);
    if (in.ConsumeBool()) store.forget("alice");
  } catch (const otp::store::Error&) {
    // refused with a message: fine
  }
}

void policies(const std::string& path, FuzzedDataProvider& in, std::int64_t now) {
  otp::config::Config cfg;
  cfg.state_file = path;
  cfg.remember = 600;
  SilentLogger log;
  otp::flow::LocalState state(cfg, otp::flow::sqlite_store_opener(), log);
  const otp::flow::Client client{"alice", "203.0.113.5", "sshd", ""};
  (void)state.remembered(client, now);
  (void)state.take_send("alice", "203.0.113.5", now);
  (void)state.has_recovery_codes("alice");
  // scrypt costs tens of ms: only some inputs check a code.
  if (in.ConsumeIntegralInRange(0, 15) == 0) {
    const auto code = otp::store::make_recovery_codes(1);
    const auto answer = state.use_recovery_code("alice", *otp::store::normalize_recovery_code(code[0].reveal()),
                                                "sshd", now);
    // A code just made at random is nobody's.
    CHECK(answer.check != otp::flow::RecoveryCheck::Accepted);
  }
  state.remember(client, now);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Setup& s = setup();
  fill(s.raw, in);
  const std::int64_t now = in.ConsumeIntegralInRange<std::int64_t>(0, std::int64_t(1) << 40);
  try {
    auto store = otp::store::open_sqlite_store(s.path);
    read_back(*store, in, now);
  } catch (const otp::store::Error&) {
  }
  policies(s.path, in, now);
  return 0;
}
