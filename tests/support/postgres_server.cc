#include "postgres_server.h"

#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "store/pg_admin.h"
#include "server_util.h"
#include "test_pki.h"

namespace otp::testing {
namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin/";

std::runtime_error failure(const std::string& what) { return std::runtime_error("postgres for tests: " + what); }

struct Ids {
  uid_t uid;
  gid_t gid;
};

// The postgres user's ids from /etc/passwd itself: the integration tests
// run under nss_wrapper, whose passwd has only the test users.
std::optional<Ids> postgres_ids() {
  std::ifstream in("/etc/passwd");
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string x; std::getline(fields, x, ':');) f.push_back(x);
    if (f.size() >= 4 && f[0] == "postgres") return Ids{static_cast<uid_t>(std::stoul(f[2])), static_cast<gid_t>(std::stoul(f[3]))};
  }
  return std::nullopt;
}

// Runs argv as the postgres user (setpriv, with numeric ids: no PAM and no
// NSS on the way), in an environment of its own (none of the test's
// preloaded wrappers), stdout and stderr to `log`; returns its pid.
pid_t spawn_as_postgres(const std::vector<std::string>& argv, const std::string& log, const NetNs* netns = nullptr) {
  const auto ids = postgres_ids();
  if (!ids) throw failure("no postgres user in /etc/passwd (is postgresql-15 installed?)");
  std::vector<std::string> full{"/usr/bin/setpriv", "--reuid=" + std::to_string(ids->uid),
                                "--regid=" + std::to_string(ids->gid), "--clear-groups"};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : full) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw failure("fork failed");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::setsid();  // a terminal's signals are not the server's
    if (netns != nullptr && ::setns(netns->fd(), CLONE_NEWNET) != 0) ::_exit(126);
    char path[] = "PATH=/usr/bin:/bin";
    char lang[] = "LC_ALL=C";
    char* env[] = {path, lang, nullptr};
    ::execve(args[0], args.data(), env);
    ::_exit(127);
  }
  return pid;
}

void run_as_postgres(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = spawn_as_postgres(argv, log);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    throw failure(argv[0] + " failed: " + text.str());
  }
}


void write_owned(const std::string& path, const std::string& text, mode_t mode, const Ids& owner) {
  std::ofstream(path) << text;
  if (::chmod(path.c_str(), mode) != 0 || ::chown(path.c_str(), owner.uid, owner.gid) != 0)
    throw failure("cannot set the owner of " + path);
}

// A server certificate from the test CA (its key in pki/) for IPv4
// `addresses`, into dir/server.pem and server.key.
void make_ip_certificate(const std::string& dir, const std::vector<std::string>& addresses) {
  std::string sans;
  for (const auto& a : addresses) sans += (sans.empty() ? "IP:" : ",IP:") + a;
  const std::string cmd = "cd " + dir + " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
                          " -keyout server.key -out server.csr -subj /CN=" + addresses.front() +
                          " -addext subjectAltName=" + sans + " 2>/dev/null"
                          " && openssl x509 -req -in server.csr -CA pki/ca.pem -CAkey pki/ca.key -CAcreateserial"
                          " -copy_extensions copy -out server.pem -days 1 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) throw failure("cannot make a certificate for " + sans);
}


// Waits up to 30 s for `options` to connect to what `pid` serves; throws
// with `details()` if the process ends first, or after stopping it with
// `stop` if it is not ready by then. Sets pid to -1 when it throws.
void wait_for_connection(pid_t& pid, const store::PgConnectOptions& options, const std::function<std::string()>& details,
                         int stop) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string last;
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      throw failure("it exited; " + details());
    }
    try {
      store::PgConnection c(options, store::PgClock::now() + std::chrono::seconds(2));
      return;
    } catch (const std::exception& e) {
      last = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, stop);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  pid = -1;
  throw failure("not ready within 30 s: " + last + "\n" + details());
}

}  // namespace

std::optional<std::string> PostgresServer::unavailable() {
  if (::geteuid() != 0) return std::string("not root: PostgreSQL must be started as the postgres user");
  return std::nullopt;
}

PostgresServer::PostgresServer(PostgresOptions options) : options_(std::move(options)) {
  if (auto why = unavailable()) throw failure(*why);
  const auto ids = postgres_ids();
  if (!ids) throw failure("no postgres user in /etc/passwd (is postgresql-15 installed?)");
  const Ids pg = *ids;
  char name[] = "/tmp/otp-pg-XXXXXX";
  if (::mkdtemp(name) == nullptr) throw failure("mkdtemp failed");
  dir_ = name;
  if (::chown(dir_.c_str(), pg.uid, pg.gid) != 0) throw failure("cannot chown " + dir_);
  const mock::Pki pki = mock::make_pki(dir_ + "/pki");
  ca_ = pki.ca_cert;
  ::chmod((dir_ + "/pki").c_str(), 0755);
  if (!options_.listen.empty()) {
    address_ = options_.listen.front();
    make_ip_certificate(dir_, options_.listen);
  } else {
    std::filesystem::copy_file(options_.wrong_host_certificate ? pki.wrong_host_cert : pki.server_cert, dir_ + "/server.pem");
    std::filesystem::copy_file(options_.wrong_host_certificate ? pki.wrong_host_key : pki.server_key, dir_ + "/server.key");
  }
  std::filesystem::copy_file(pki.ca_cert, dir_ + "/ca.pem");
  for (const char* f : {"/server.pem", "/server.key", "/ca.pem"})
    if (::chown((dir_ + f).c_str(), pg.uid, pg.gid) != 0) throw failure("cannot chown the TLS files");
  ::chmod((dir_ + "/server.key").c_str(), 0600);
  superuser_password_ = random_text();
  write_owned(dir_ + "/pw", superuser_password_ + "\n", 0600, pg);
  run_as_postgres({std::string(kBin) + "initdb", "-D", dir_ + "/data", "-U", "postgres", "--auth=scram-sha-256",
                   "--pwfile=" + dir_ + "/pw", "-N", "--no-instructions", "-E", "UTF8", "--locale=C"},
                  dir_ + "/initdb.log");
  // TLS for every TCP login; the role pam_otp_cert by its certificate.
  write_owned(dir_ + "/data/pg_hba.conf",
              "local all pam_otp_login scram-sha-256\n"
              "hostssl all pam_otp_cert 0.0.0.0/0 cert\n"
              "hostssl all all 0.0.0.0/0 scram-sha-256\n"
              "hostssl all all ::1/128 scram-sha-256\n"
              "host all all 0.0.0.0/0 reject\n"
              "host all all ::1/128 reject\n",
              0600, pg);
  port_ = free_loopback_port();
  start();
}

PostgresServer::~PostgresServer() {
  try {
    thaw();
    stop();
  } catch (...) {
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void PostgresServer::start() {
  if (pid_ > 0) return;
  std::vector<std::string> argv{std::string(kBin) + "postgres", "-D", dir_ + "/data",
                                "-c", "listen_addresses=" + listen_addresses(),
                                "-c", "port=" + std::to_string(port_),
                                "-c", "unix_socket_directories=" + dir_,
                                "-c", "ssl=on",
                                "-c", "ssl_cert_file=" + dir_ + "/server.pem",
                                "-c", "ssl_key_file=" + dir_ + "/server.key",
                                "-c", "ssl_ca_file=" + dir_ + "/ca.pem",
                                "-c", "max_connections=" + std::to_string(options_.max_connections),
                                "-c", "fsync=off",
                                "-c", "shared_buffers=16MB"};
  for (const auto& s : options_.settings) argv.insert(argv.end(), {"-c", s});
  pid_ = spawn_as_postgres(argv, dir_ + "/server.log", options_.netns);
  wait_until_ready();
}

void PostgresServer::wait_until_ready() {
  store::PgConnectOptions o = admin();
  if (options_.wrong_host_certificate) o.target.sslmode = "require";  // (it cannot be verified: that is the point)
  wait_for_connection(pid_, o, [this] { return "the server's log: " + log(); }, SIGQUIT);
}

void PostgresServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);  // fast shutdown
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void PostgresServer::stop_immediately() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGQUIT);  // immediate shutdown: no checkpoint, recovery at the next start
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::vector<pid_t> PostgresServer::server_pids() const {
  std::vector<pid_t> pids;
  if (pid_ <= 0) return pids;
  pids.push_back(pid_);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    std::getline(stat, text);
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    char state = 0;
    pid_t parent = 0;
    rest >> state >> parent;
    if (parent == pid_) pids.push_back(std::stoi(name));
  }
  return pids;
}

void PostgresServer::freeze() {
  for (pid_t p : server_pids()) ::kill(p, SIGSTOP);
}

void PostgresServer::thaw() {
  for (pid_t p : server_pids()) ::kill(p, SIGCONT);
}

std::string PostgresServer::log() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

store::PgConnectOptions PostgresServer::admin(const std::string& db) const {
  store::PgConnectOptions o;
  o.target.hosts = {{address_, port_}};
  o.target.user = "postgres";
  o.target.dbname = db;
  o.target.sslrootcert = ca_;
  o.password = Secret(superuser_password_);
  return o;
}

store::PgConnectOptions PostgresServer::login(const std::string& role, const std::string& password,
                                              const std::string& db) const {
  store::PgConnectOptions o = admin(db);
  o.target.user = role;
  o.password = Secret(password);
  return o;
}

std::string PostgresServer::uri(const std::string& role, const std::string& db, const std::string& address) const {
  return "postgresql://" + role + "@" + (address.empty() ? address_ : address) + ":" + std::to_string(port_) + "/" + db +
         "?sslrootcert=" + ca_;
}

std::string PostgresServer::listen_addresses() const {
  std::string out;
  for (const auto& a : options_.listen) out += (out.empty() ? "" : ",") + a;
  return out.empty() ? address_ : out;
}

std::vector<store::PgRow> PostgresServer::sql(const std::string& statements, const std::string& db,
                                              const std::vector<std::string>& params) const {
  store::PgConnection c(admin(db), store::PgClock::now() + std::chrono::seconds(10));
  return c.run(statements, params, store::PgClock::now() + std::chrono::seconds(30));
}

void PostgresServer::ensure_login_role() const {
  for (const std::string role : {"pam_otp_login", kAdminRole})
    sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role + "') THEN CREATE ROLE " + role +
        " LOGIN PASSWORD '" + login_password() + "'; END IF; END $$");
}

std::string PostgresServer::new_store_database() {
  if (databases_ == 0) ensure_login_role();
  const std::string db = "store" + std::to_string(++databases_);
  sql("CREATE DATABASE " + db);
  store::pg_init(admin(db), "pam_otp_login", std::chrono::seconds(30), Secret(), kAdminRole);
  return db;
}

Pgbouncer::Pgbouncer(const PostgresServer& server, int pool_size) : server_(server) {
  const auto ids = postgres_ids();
  if (!ids) throw failure("no postgres user in /etc/passwd (is postgresql-15 installed?)");
  server.ensure_login_role();
  const auto secrets = server.sql("SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('pam_otp_login', $1)",
                                  "postgres", {PostgresServer::kAdminRole});
  std::string users;
  for (const auto& row : secrets) users += "\"" + row[0].value_or("") + "\" \"" + row[1].value_or("") + "\"\n";
  if (secrets.size() != 2) throw failure("no SCRAM secrets for pam_otp's roles");
  dir_ = server.dir() + "/pgbouncer";
  std::filesystem::create_directory(dir_);
  if (::chown(dir_.c_str(), ids->uid, ids->gid) != 0) throw failure("cannot chown " + dir_);
  for (const char* f : {"/server.pem", "/server.key", "/ca.pem"}) {
    std::ifstream in(server.dir() + f);
    std::stringstream text;
    text << in.rdbuf();
    write_owned(dir_ + f, text.str(), 0600, *ids);
  }
  write_owned(dir_ + "/users.txt", users, 0600, *ids);
  port_ = free_loopback_port();
  write_owned(dir_ + "/pgbouncer.ini",
              "[databases]\n"
              "* = host=127.0.0.1 port=" + std::to_string(server.port()) + "\n"
              "[pgbouncer]\n"
              "listen_addr = 127.0.0.1\n"
              "listen_port = " + std::to_string(port_) + "\n"
              "unix_socket_dir =\n"
              "auth_type = scram-sha-256\n"
              "auth_file = " + dir_ + "/users.txt\n"
              "pool_mode = transaction\n"
              "default_pool_size = " + std::to_string(pool_size) + "\n"
              "max_client_conn = 500\n"
              "client_tls_sslmode = require\n"
              "client_tls_cert_file = " + dir_ + "/server.pem\n"
              "client_tls_key_file = " + dir_ + "/server.key\n"
              "server_tls_sslmode = verify-full\n"
              "server_tls_ca_file = " + dir_ + "/ca.pem\n",
              0600, *ids);
  pid_ = spawn_as_postgres({"/usr/sbin/pgbouncer", dir_ + "/pgbouncer.ini"}, dir_ + "/pgbouncer.log");
  wait_for_connection(pid_, login("pam_otp_login", "postgres"),
                      [this] { return "see " + dir_ + "/pgbouncer.log"; }, SIGTERM);
}

Pgbouncer::~Pgbouncer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

store::PgConnectOptions Pgbouncer::login(const std::string& role, const std::string& db) const {
  store::PgConnectOptions o = server_.login(role, PostgresServer::login_password(), db);
  o.target.hosts = {{"127.0.0.1", port_}};
  o.target.channel_binding = "disable";  // (pgbouncer 1.18 cannot do it: pam_otp(8) says so)
  return o;
}

}  // namespace otp::testing
