#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>
#include <unordered_map>


namespace otp::store {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "0%03o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string owner_problem(const struct stat& st) {
  if (st.st_uid == ::geteuid()) return "";
  return "is owned by uid " + std::to_string(st.st_uid) + ", not by " +
         (::geteuid() == 0 ? std::string("root") : "uid " + std::to_string(::geteuid()));
}

}  // namespace

// The directory must be a real one of ours that nobody else can write to,
// so that nobody else can put a file or a link in the database's place.
void check_state_directory(const std::string& dir, bool create) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT && create) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw Error(dir + ": cannot create the state directory: " + std::strerror(errno));
  }
  if (::lstat(dir.c_str(), &st) != 0) throw Error(dir + ": " + std::strerror(errno));
  if (S_ISLNK(st.st_mode)) throw Error(dir + " is a symbolic link; the state directory must be a real directory");
  if (!S_ISDIR(st.st_mode)) throw Error(dir + " is not a directory");
  if (auto problem = owner_problem(st); !problem.empty()) throw Error(dir + " " + problem);
  if ((st.st_mode & 022) != 0)
    throw Error(dir + " is writable by group or others (mode " + mode_text(st.st_mode) + "); chmod 0700 " + dir);
}

namespace {

// The file: created 0600 here (SQLite would use 0644 less the umask), then
// checked like the secrets file. Its -wal and -shm files inherit its mode.
// An existing file is only lstat()ed, never opened: closing a descriptor of
// ours would drop the POSIX locks another SQLite connection of this process
// (another thread's login) holds on it. The directory is root's alone, so
// nobody can swap the file between this check and SQLite's open.
void check_file(const std::string& path, bool create) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || !create) throw Error(path + ": " + std::strerror(errno));
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    else if (errno != EEXIST) throw Error(path + ": cannot create the state file: " + std::strerror(errno));
    if (::lstat(path.c_str(), &st) != 0) throw Error(path + ": " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) throw Error(path + " is a symbolic link; the state file must be a regular file");
  if (!S_ISREG(st.st_mode)) throw Error(path + " is not a regular file");
  if (auto problem = owner_problem(st); !problem.empty()) throw Error(path + " " + problem);
  if ((st.st_mode & 077) != 0)
    throw Error(path + " is readable or writable by group or others (mode " + mode_text(st.st_mode) + "); chmod 0600 " +
                path);
}

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

// How long one connection's calls have waited for other processes' locks,
// through its busy handler or SQLite's own retries, and how long they may.
class WaitBudget {
 public:
  explicit WaitBudget(milliseconds budget) : budget_(budget) {}
  // Sleeps up to `want`, within what is left; false once nothing is.
  bool wait(steady_clock::duration want) {
    if (waited_ >= budget_) return false;
    const auto start = steady_clock::now();
    std::this_thread::sleep_for(std::min<steady_clock::duration>(budget_ - waited_, want));
    waited_ += steady_clock::now() - start;
    return true;
  }
  milliseconds budget() const { return std::chrono::duration_cast<milliseconds>(budget_); }
  void renew() { waited_ = steady_clock::duration(0); }

 private:
  steady_clock::duration budget_;
  steady_clock::duration waited_{0};
};

// The system's VFS with one change: its sleeps count against a budget. In
// WAL mode SQLite retries a read lock it cannot get up to 100 times with
// growing sleeps (about 10 s in all, ending in "locking protocol") without
// calling the busy handler; through this VFS those sleeps end when the
// budget does, and the retries then fail at once. One per connection
// (SQLite hands xSleep only the VFS), registered under a name of its own.
class BudgetVfs {
 public:
  explicit BudgetVfs(WaitBudget& budget) : budget_(budget) {
    const sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    if (base == nullptr) throw Error("SQLite has no default VFS");
    vfs_.inner = *base;
    name_ = "pam_otp-" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
    vfs_.inner.zName = name_.c_str();
    vfs_.inner.pNext = nullptr;
    vfs_.inner.xSleep = &BudgetVfs::sleep;
    vfs_.owner = this;
    if (sqlite3_vfs_register(&vfs_.inner, 0) != SQLITE_OK) throw Error("cannot register SQLite's VFS");
  }
  BudgetVfs(const BudgetVfs&) = delete;
  BudgetVfs& operator=(const BudgetVfs&) = delete;
  ~BudgetVfs() { sqlite3_vfs_unregister(&vfs_.inner); }
  const char* name() const { return name_.c_str(); }

 private:
  // sqlite3_vfs first, so that the pointer SQLite passes leads back here
  // (pAppData stays the base VFS's own: the unix VFS needs it).
  struct Wrapped {
    sqlite3_vfs inner;
    BudgetVfs* owner;
  };
  static int sleep(sqlite3_vfs* vfs, int microseconds) {
    auto* self = reinterpret_cast<Wrapped*>(vfs)->owner;
    self->budget_.wait(std::chrono::microseconds(microseconds));
    return microseconds;
  }

  WaitBudget& budget_;
  std::string name_;
  Wrapped vfs_{};
};

// About 20 logins' sends (three pages each: the events and its two indexes).
constexpr int kCheckpointFrames = 64;
// A long-lived connection (the state service) keeps the WAL index, so a
// passive checkpoint is remembered and the WAL is rewritten from its start,
// in place: no truncation and no fsyncs every 20 logins, no blocks
// allocated anew for each commit (bench/README.md, "The state store").
constexpr int kLongLivedCheckpointFrames = 1000;
constexpr char kLongLivedWalLimit[] = "PRAGMA journal_size_limit = 4194304";  // about 1000 frames

// One open database, and how long its calls have waited for other
// processes' locks (at most the budget, summed over the calls).
class Connection {
 public:
  Connection(std::string path, milliseconds budget, bool long_lived)
      : path_(std::move(path)), budget_(budget), long_lived_(long_lived), vfs_(budget_) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path_.c_str(), &db,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, vfs_.name());
    db_.reset(db);
    if (rc != SQLITE_OK) throw Error(path_ + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_handler(db, &Connection::on_busy, this);
    // Each login is a process with one short connection. Checkpointing at
    // every close cost two fsyncs and deleting and re-creating the WAL a
    // third and the directory's: about 1 ms per login (bench/README.md,
    // "The state store"). The WAL is checkpointed (and truncated) once it
    // holds kCheckpointFrames instead; a later open reads what is left.
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    sqlite3_wal_hook(db, &Connection::after_commit, this);
    if (long_lived_) exec(kLongLivedWalLimit);
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    for (auto& [sql, cached] : statements_) sqlite3_finalize(cached.stmt);
  }

  sqlite3* db() const { return db_.get(); }
  const std::string& path() const { return path_; }

  // The statement for `sql` (a string literal: its address is the key),
  // prepared once per connection: a state service runs the same few for
  // months, and preparing is most of a short call's time. nullptr when
  // the cached one is in use (the caller prepares its own).
  sqlite3_stmt* cached(const char* sql) {
    auto [it, added] = statements_.try_emplace(sql);
    if (added && sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &it->second.stmt, nullptr) != SQLITE_OK) {
      statements_.erase(it);
      fail("prepare");
    }
    if (it->second.in_use) return nullptr;
    it->second.in_use = true;
    return it->second.stmt;
  }
  void release(const char* sql) { statements_[sql].in_use = false; }
  // At the start of each Store call: a long-lived store's budget is per call.
  void begin_call() {
    if (long_lived_) budget_.renew();
  }

  [[noreturn]] void fail(const std::string& what) const {
    const int code = sqlite3_extended_errcode(db_.get()) & 0xff;
    const bool busy = code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_PROTOCOL;
    throw Error(path_ + ": " + what + ": " + sqlite3_errmsg(db_.get()) +
                (busy ? " (after waiting " + std::to_string(budget_.budget().count()) + " ms for other logins)" : ""));
  }

  void exec(const std::string& sql) {
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql.substr(0, 40));
  }

  // Moves the WAL into the main file and empties it, if no other connection
  // is in the way. TRUNCATE, not PASSIVE: a checkpoint that leaves the WAL's
  // frames in place is forgotten when the next process rebuilds the WAL
  // index, so the WAL would only grow. It needs every other connection idle
  // and does not wait for them (no busy handler meanwhile); after_commit
  // tries again at the next commit.
  void truncate_wal() {
    sqlite3_busy_handler(db_.get(), nullptr, nullptr);
    sqlite3_wal_checkpoint_v2(db_.get(), "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    sqlite3_busy_handler(db_.get(), &Connection::on_busy, this);
  }

 private:
  // SQLite calls this while another connection holds the lock it needs.
  static int on_busy(void* self, int /*count*/) {
    return static_cast<Connection*>(self)->budget_.wait(milliseconds(2)) ? 1 : 0;
  }

  // After each commit in WAL mode (only the main database has one).
  static int after_commit(void* self, sqlite3* db, const char* /*name*/, int frames) {
    auto* c = static_cast<Connection*>(self);
    if (!c->long_lived_ && frames >= kCheckpointFrames) c->truncate_wal();
    if (c->long_lived_ && frames >= kLongLivedCheckpointFrames) {
      // (Not waiting for other connections: the next commit tries again.)
      sqlite3_busy_handler(db, nullptr, nullptr);
      sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      sqlite3_busy_handler(db, &Connection::on_busy, c);
    }
    return SQLITE_OK;
  }

  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  std::string path_;
  std::unordered_map<const char*, Cached> statements_;
  WaitBudget budget_;
  bool long_lived_;
  BudgetVfs vfs_;
  std::unique_ptr<sqlite3, CloseDb> db_;  // closed before its VFS goes
};

// A prepared statement, the connection's cached one (reset and unbound
// after use) or, when that one is in use, one of its own (finalized).
class Statement {
 public:
  Statement(Connection& c, const char* sql) : c_(c), sql_(sql), stmt_(c.cached(sql)) {
    if (stmt_ != nullptr) return;
    own_ = true;
    if (sqlite3_prepare_v2(c.db(), sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt_);
      c.fail("prepare");
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    if (own_) {
      sqlite3_finalize(stmt_);
      return;
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    c_.release(sql_);
  }

  Statement& bind(int i, const std::string& text) {
    return check(sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
  }
  Statement& bind(int i, std::int64_t n) { return check(sqlite3_bind_int64(stmt_, i, n)); }
  Statement& bind_blob(int i, const std::string& bytes) {
    return check(sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
  }

  // true for a row, false when done.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    c_.fail(sqlite3_sql(stmt_) ? std::string(sqlite3_sql(stmt_)).substr(0, 40) : "step");
  }
  void run() {
    while (step()) {
    }
  }
  std::int64_t step_integer() { return step() ? integer(0) : 0; }
  std::string step_text() { return step() ? text(0) : ""; }

  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  // Whatever type the column holds, as bytes (the store reads back what it
  // wrote, but a damaged or hand-edited file may hold anything).
  std::string blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p != nullptr && n > 0 ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : "";
  }
  Secret secret_blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return Secret(p != nullptr && n > 0 ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n))
                                        : std::string_view());
  }
  std::string text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p != nullptr && n > 0 ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : "";
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) c_.fail("bind");
    return *this;
  }
  Connection& c_;
  const char* sql_;
  sqlite3_stmt* stmt_ = nullptr;
  bool own_ = false;
};

// BEGIN IMMEDIATE (takes the write lock up front, so a writer never fails
// half-way on a lock upgrade) or DEFERRED; rolled back unless committed.
class Transaction {
 public:
  // (Statements, not exec: prepared once per connection.)
  explicit Transaction(Connection& c, bool write = true) : c_(c) {
    Statement(c, write ? "BEGIN IMMEDIATE" : "BEGIN").run();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (!done_) sqlite3_exec(c_.db(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    Statement(c_, "COMMIT").run();
    done_ = true;
  }

 private:
  Connection& c_;
  bool done_ = false;
};

// Migration N takes the schema from version N-1 to N. Never edit one that
// has shipped: add the next.
const char* const kMigrations[] = {
    // 1
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE recovery_batches(user TEXT PRIMARY KEY, salt BLOB NOT NULL, issued_at INTEGER NOT NULL);"
    "CREATE TABLE recovery_codes(id INTEGER PRIMARY KEY, user TEXT NOT NULL, hash BLOB NOT NULL,"
    "  used_at INTEGER, used_by TEXT);"
    "CREATE INDEX recovery_codes_by_user ON recovery_codes(user);"
    "CREATE TABLE remembered(user TEXT NOT NULL, key_hash TEXT NOT NULL, service TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY(user, key_hash));"
    "CREATE TABLE events(kind TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX events_by_key ON events(kind, key, at);"
    "CREATE INDEX events_by_time ON events(at);",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

// Events older than this are gone whatever their limit (send_limit windows
// are at most 30 days). They are pruned by one send in kPruneEvery (by the
// clock's second), not by each.
constexpr std::int64_t kEventHorizon = 31 * 86400;
constexpr std::int64_t kPruneEvery = 16;

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, const SqliteOptions& options) : c_(path, options.wait_budget, options.long_lived) {
    // WAL is a property of the file, but a copy restored in another mode
    // keeps that mode: set on every open (a read when it already is).
    if (Statement(c_, "PRAGMA journal_mode").step_text() != "wal") Statement(c_, "PRAGMA journal_mode=WAL").step_text();
    // NORMAL: a power loss may lose the last commits (a send counted, a
    // login remembered), never the file; an fsync per commit would make 200
    // logins at once wait on each other's. A recovery code's use is synced
    // (use_recovery_code).
    c_.exec("PRAGMA synchronous=NORMAL");
    migrate();
  }

  Secret hash_key() override {
    c_.begin_call();
    if (key_.empty()) {
      Statement s(c_, "SELECT value FROM meta WHERE name = 'hash_key'");
      if (s.step()) key_ = s.secret_blob(0);
      if (key_.size() != 32) throw Error(c_.path() + ": the hash key is missing or damaged");
    }
    return key_;
  }

  void set_recovery_codes(const std::string& user, const std::string& salt, const std::vector<std::string>& hashes,
                          std::int64_t now) override {
    c_.begin_call();
    Transaction tx(c_);

    Statement(c_, "DELETE FROM recovery_codes WHERE user = ?").bind(1, user).run();
    Statement(c_, "DELETE FROM recovery_batches WHERE user = ?").bind(1, user).run();
    if (!hashes.empty()) {
      Statement(c_, "INSERT INTO recovery_batches(user, salt, issued_at) VALUES(?, ?, ?)")
          .bind(1, user).bind_blob(2, salt).bind(3, now).run();
      for (const auto& hash : hashes)
        Statement(c_, "INSERT INTO recovery_codes(user, hash) VALUES(?, ?)").bind(1, user).bind_blob(2, hash).run();
    }
    tx.commit();
  }

  std::optional<RecoveryBatch> recovery_codes(const std::string& user) override {
    c_.begin_call();
    Transaction tx(c_, false);  // one snapshot for both reads
    auto result = recovery_codes_in_transaction(user);
    tx.commit();
    return result;
  }

  bool use_recovery_code(const std::string& user, std::int64_t id, const std::string& hash, std::int64_t now,
                         const std::string& service) override {
    c_.begin_call();
    // Synced (FULL) for this commit alone: a used code stays used after a
    // power loss.
    c_.exec("PRAGMA synchronous=FULL");
    struct Restore {
      Connection& c;
      ~Restore() { sqlite3_exec(c.db(), "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr); }
    } restore{c_};
    Statement s(c_, "UPDATE recovery_codes SET used_at = ?, used_by = ? "
                    "WHERE id = ? AND user = ? AND hash = ? AND used_at IS NULL");
    s.bind(1, now).bind(2, service).bind(3, id).bind(4, user).bind_blob(5, hash).run();
    const bool used = sqlite3_changes(c_.db()) == 1;
    // And into the main file at once when no other login is using it, so
    // that a copy of state.db alone (without its -wal) still has it used.
    if (used) c_.truncate_wal();
    return used;
  }

  void remember(const Remembered& login) override {
    c_.begin_call();
    Transaction tx(c_);
    Statement(c_, "DELETE FROM remembered WHERE expires_at <= ?").bind(1, login.created_at).run();
    Statement(c_, "INSERT OR REPLACE INTO remembered(user, key_hash, service, created_at, expires_at) "
                     "VALUES(?, ?, ?, ?, ?)")
        .bind(1, login.user).bind(2, login.key_hash).bind(3, login.service).bind(4, login.created_at)
        .bind(5, login.expires_at).run();
    tx.commit();
  }

  bool is_remembered(const std::string& user, const std::string& key_hash, std::int64_t now,
                     std::int64_t not_before) override {
    c_.begin_call();
    // typeof: in SQLite's order any text is greater than any number, so a
    // damaged row's "expires_at" of text must never read as "not expired".
    Statement s(c_, "SELECT 1 FROM remembered WHERE user = ? AND key_hash = ? AND typeof(expires_at) = 'integer' "
                    "AND expires_at > ? AND typeof(created_at) = 'integer' AND created_at > ?");
    return s.bind(1, user).bind(2, key_hash).bind(3, now).bind(4, not_before).step();
  }

  std::vector<Remembered> remembered(const std::string& user, std::int64_t now) override {
    c_.begin_call();
    Statement s(c_, "SELECT user, key_hash, service, created_at, expires_at FROM remembered "
                       "WHERE (?1 = '' OR user = ?1) AND typeof(expires_at) = 'integer' AND expires_at > ?2 "
                       "ORDER BY user, expires_at");
    s.bind(1, user).bind(2, now);
    std::vector<Remembered> found;
    while (s.step()) found.push_back({s.text(0), s.text(1), s.text(2), s.integer(3), s.integer(4)});
    return found;
  }

  std::optional<LimitReached> take(const std::vector<Limit>& limits, std::int64_t now) override {
    c_.begin_call();
    Transaction tx(c_);
    if (now % kPruneEvery == 0)
      // Two ranges of events_by_time, never a scan of the table: text and
      // blobs (a damaged file) sort after every number.
      Statement(c_, "DELETE FROM events WHERE at <= ? OR at >= ''").bind(1, now - kEventHorizon).run();
    for (std::size_t i = 0; i < limits.size(); ++i) {
      const Limit& l = limits[i];
      Statement s(c_, "SELECT COUNT(*), MIN(at) FROM events WHERE kind = ? AND key = ? AND typeof(at) = 'integer' "
                      "AND at > ?");
      s.bind(1, l.kind).bind(2, l.key).bind(3, now - l.window).step();
      // The oldest event in the window frees the next slot (clamped: a
      // damaged file may hold any number there).
      const std::int64_t oldest = std::clamp(s.integer(1), now - l.window, now);
      if (s.integer(0) >= l.max) return LimitReached{i, std::max<std::int64_t>(1, oldest + l.window - now)};
    }
    for (const Limit& l : limits)
      Statement(c_, "INSERT INTO events(kind, key, at) VALUES(?, ?, ?)").bind(1, l.kind).bind(2, l.key).bind(3, now).run();
    tx.commit();
    return std::nullopt;
  }

  int count(const std::string& kind, const std::string& key, std::int64_t since) override {
    c_.begin_call();
    Statement s(c_, "SELECT COUNT(*) FROM events WHERE kind = ? AND key = ? AND typeof(at) = 'integer' AND at > ?");
    s.bind(1, kind).bind(2, key).bind(3, since).step();
    return static_cast<int>(s.integer(0));
  }

  void forget(const std::string& user) override {
    c_.begin_call();
    Transaction tx(c_);
    Statement(c_, "DELETE FROM remembered WHERE user = ?").bind(1, user).run();
    Statement(c_, "DELETE FROM events WHERE key = ?1 AND kind IN (?2, ?3)")
        .bind(1, user).bind(2, std::string(kSendUser)).bind(3, std::string(kRecoveryTried)).run();
    // user_rhost_key(): 64 hex digits of hash, ':', the user name.
    Statement(c_, "DELETE FROM events WHERE kind = ? AND substr(key, 66) = ?")
        .bind(1, std::string(kSendUserRhost)).bind(2, user).run();
    tx.commit();
  }

  void forget_rhost(const std::string& rhost_hash) override {
    c_.begin_call();
    Transaction tx(c_);
    Statement(c_, "DELETE FROM events WHERE (kind = ?1 AND key = ?2) OR (kind = ?3 AND substr(key, 1, 65) = ?2 || ':')")
        .bind(1, std::string(kSendRhost)).bind(2, rhost_hash).bind(3, std::string(kSendUserRhost)).run();
    tx.commit();
  }

  StateExport export_all(std::int64_t now) {
    StateExport out;
    out.hash_key = hash_key();
    Transaction tx(c_, false);  // one snapshot
    std::vector<std::string> users;
    for (Statement s(c_, "SELECT user FROM recovery_batches ORDER BY user"); s.step();) users.push_back(s.text(0));
    for (const auto& user : users)
      if (auto batch = recovery_codes_in_transaction(user)) out.recovery.emplace_back(user, std::move(*batch));
    out.remembered = remembered("", now);
    Statement events(c_, "SELECT kind, key, at FROM events WHERE typeof(at) = 'integer' AND at > ? ORDER BY kind, key, at");
    for (events.bind(1, now - kEventHorizon); events.step();) out.events.push_back({events.text(0), events.text(1), events.integer(2)});
    tx.commit();
    return out;
  }

 private:
  std::optional<RecoveryBatch> recovery_codes_in_transaction(const std::string& user) {
    Statement batch(c_, "SELECT salt, issued_at FROM recovery_batches WHERE user = ?");
    if (!batch.bind(1, user).step()) return std::nullopt;
    RecoveryBatch result{batch.blob(0), batch.integer(1), {}};
    Statement codes(c_, "SELECT id, hash, used_at, used_by FROM recovery_codes WHERE user = ? ORDER BY id");
    codes.bind(1, user);
    while (codes.step()) {
      RecoveryCode code{codes.integer(0), codes.blob(1), std::nullopt, codes.text(3)};
      if (!codes.is_null(2)) code.used_at = codes.integer(2);
      result.codes.push_back(std::move(code));
    }
    return result;
  }

  int user_version() { return static_cast<int>(Statement(c_, "PRAGMA user_version").step_integer()); }

  void migrate() {
    if (user_version() == kSchemaVersion) return;
    Transaction tx(c_);
    const int version = user_version();  // another process may have migrated meanwhile
    if (version > kSchemaVersion)
      throw Error(c_.path() + " has schema version " + std::to_string(version) + ", newer than this pam_otp's (" +
                  std::to_string(kSchemaVersion) + "): written by a newer pam_otp");
    for (int v = version; v < kSchemaVersion; ++v) c_.exec(kMigrations[v]);
    if (version == 0) {
      unsigned char key[32];
      if (RAND_bytes(key, sizeof key) != 1) throw Error(c_.path() + ": no random bytes for the hash key");
      Statement(c_, "INSERT INTO meta(name, value) VALUES('hash_key', ?)")
          .bind_blob(1, std::string(reinterpret_cast<char*>(key), sizeof key)).run();
    }
    c_.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    tx.commit();
  }

  Connection c_;
  Secret key_;
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const SqliteOptions& options) {
  if (path.empty() || path[0] != '/') throw Error("state_file '" + path + "' must be an absolute path");
  const auto slash = path.find_last_of('/');
  check_state_directory(slash == 0 ? "/" : path.substr(0, slash), options.create);
  check_file(path, options.create);
  return std::make_unique<SqliteStore>(path, options);
}

StateExport export_sqlite_store(const std::string& path, std::int64_t now) {
  if (path.empty() || path[0] != '/') throw Error("state_file '" + path + "' must be an absolute path");
  const auto slash = path.find_last_of('/');
  check_state_directory(slash == 0 ? "/" : path.substr(0, slash), false);
  check_file(path, false);
  return SqliteStore(path, {milliseconds(10000), false}).export_all(now);
}

std::string sqlite_store_health(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
    const auto slash = path.find_last_of('/');
    const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    if (::lstat(dir.c_str(), &st) == 0) {
      try {
        check_state_directory(dir, false);
      } catch (const Error& e) {
        return e.what();
      }
    }
    return "";  // made at the first login that needs it
  }
  try {
    auto store = open_sqlite_store(path, {milliseconds(1000), false});
    store->hash_key();
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

}  // namespace otp::store
