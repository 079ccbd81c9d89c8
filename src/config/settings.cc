#include "config/settings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>

#include "config/cidr.h"
#include "config/directory_settings.h"
#include "config/messages.h"
#include "config/safe_file.h"
#include "http/url_policy.h"
#include "provider/channels.h"

namespace otp::config {
namespace {

// How a key is read from the config file into Config, and how `pam-otp
// show` writes it back from Config (nothing for an unset key without a
// default). Each row of settings() names its key once and passes it in.
using Apply = std::function<void(const toml::table&, Config&, tomlu::TomlReader&, std::string_view key)>;
using Show = std::function<void(const Config&, toml::table&, std::string_view key)>;

struct Handling {
  Apply apply;
  Show show;
};

struct Setting {
  std::string_view key;
  Handling handling;
};

toml::array array_of(const std::vector<std::string>& items) {
  toml::array a;
  for (const auto& i : items) a.push_back(i);
  return a;
}

Handling integer(int Config::*field, std::int64_t min, std::int64_t max) {
  return {[=](const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
            if (auto v = g.integer(t, key, std::string(key), min, max)) c.*field = static_cast<int>(*v);
          },
          [=](const Config& c, toml::table& out, std::string_view key) { out.insert(key, c.*field); }};
}

Handling boolean(bool Config::*field) {
  return {[=](const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
            if (auto v = g.boolean(t, key, std::string(key))) c.*field = *v;
          },
          [=](const Config& c, toml::table& out, std::string_view key) { out.insert(key, c.*field); }};
}

// A string; `shown_when_empty` false for a key that has no default (shown as "not set").
Handling text(std::string Config::*field, bool shown_when_empty = true) {
  return {[=](const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
            if (auto v = g.string(t, key, std::string(key))) c.*field = *v;
          },
          [=](const Config& c, toml::table& out, std::string_view key) {
            if (shown_when_empty || !(c.*field).empty()) out.insert(key, c.*field);
          }};
}

Handling list(std::vector<std::string> Config::*field) {
  return {[=](const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
            if (auto v = g.strings(t, key, std::string(key))) c.*field = *v;
          },
          [=](const Config& c, toml::table& out, std::string_view key) { out.insert(key, array_of(c.*field)); }};
}

// A list whose items apply() checks; shown as it is.
Handling checked_list(std::vector<std::string> Config::*field, Apply apply) {
  return {std::move(apply),
          [=](const Config& c, toml::table& out, std::string_view key) { out.insert(key, array_of(c.*field)); }};
}

// A string that must be one of a few words.
Apply choice(std::vector<std::string_view> words, std::function<void(Config&, const std::string&)> set) {
  return [=](const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
    const auto v = g.string(t, key, std::string(key));
    if (!v) return;
    for (auto w : words)
      if (w == *v) return set(c, *v);
    std::string all;
    for (auto w : words) all += (all.empty() ? "" : ", ") + std::string(w);
    g.problem(*t.get(key), std::string(key), "must be one of " + all + ", not '" + *v + "'");
  };
}

// One of an enum's values, by the config file's word for it (name_of).
template <class E>
Handling one_of(E Config::*field, std::vector<E> values) {
  std::vector<std::string_view> words;
  for (E v : values) words.push_back(name_of(v));
  return {choice(words,
                 [=](Config& c, const std::string& word) {
                   for (E v : values)
                     if (name_of(v) == word) c.*field = v;
                 }),
          [=](const Config& c, toml::table& out, std::string_view key) { out.insert(key, name_of(c.*field)); }};
}

// send_limit = { user = "5/15m", rhost = "20/1h", user_rhost = "5/1h" }:
// the table replaces the defaults, and a key left out is no limit ({} turns
// them all off).
void apply_send_limit(const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
  const auto* limits = g.table(t, key, std::string(key));
  if (limits == nullptr) return;
  c.send_limit = {};
  for (auto& limit : c.send_limit.limit) limit = {};
  for (const auto& [name, value] : *limits) {
    const std::string path = std::string(key) + "." + std::string(name.str());
    RateLimit* limit = nullptr;
    std::string keys;
    for (const auto& row : kSendLimits) {
      if (row.key == name.str()) limit = &c.send_limit[row.scope];
      keys += (keys.empty() ? "" : ", ") + std::string(row.key);
    }
    if (limit == nullptr) {
      g.problem(value, path, "unknown key (send_limit has " + keys + ")");
      continue;
    }
    const auto text = g.string(*limits, name.str(), path);
    if (!text) continue;
    std::string why;
    if (auto parsed = parse_rate_limit(*text, why)) *limit = *parsed;
    else g.problem(value, path, why);
  }
}

// A file of the TLS keys (CA bundle, client certificate and key, pin): an
// absolute path here; load_trust_files() reads and checks it.
Handling tls_path(std::string http::TlsOptions::*field) {
  return {[=](const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
            const auto v = g.string(t, key, std::string(key));
            if (!v) return;
            if (v->empty() || (*v)[0] != '/') g.problem(*t.get(key), std::string(key), "must be an absolute path");
            else c.tls.*field = *v;
          },
          [=](const Config& c, toml::table& out, std::string_view key) {
            if (!(c.tls.*field).empty()) out.insert(key, c.tls.*field);
          }};
}

// A key with its own reading and showing.
Handling custom(Apply apply, Show show) { return {std::move(apply), std::move(show)}; }

void apply_code_pattern(const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
  const auto v = g.string(t, key, std::string(key));
  if (!v) return;
  std::string why;
  auto re = Regex::compile(*v, why);
  if (!re) {
    g.problem(*t.get(key), std::string(key), "is not a valid POSIX extended regular expression: " + why);
    return;
  }
  c.code_pattern = std::move(*re);
}

void apply_networks(const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
  const auto v = g.strings(t, key, std::string(key));
  if (!v) return;
  for (const auto& net : *v)
    if (!Cidr::parse(net)) g.problem(*t.get(key), std::string(key), "'" + net + "' is not an IPv4 or IPv6 network in CIDR notation");
  c.exempt_networks = *v;
}

// OpenSSH's method names (sshd_config(5), AuthenticationMethods).
void apply_ssh_methods(const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
  const auto v = g.strings(t, key, std::string(key));
  if (!v) return;
  static const std::vector<std::string> kMethods = {"publickey", "password", "keyboard-interactive", "hostbased",
                                                    "gssapi-with-mic"};
  for (const auto& m : *v) {
    if (std::find(kMethods.begin(), kMethods.end(), m) != kMethods.end()) continue;
    g.problem(*t.get(key), std::string(key),
              "'" + m + "' is not an SSH authentication method (publickey, password, keyboard-interactive, "
              "hostbased, gssapi-with-mic)");
    return;
  }
  c.require_ssh_methods = *v;
}

void apply_pin(const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
  const auto v = g.string(t, key, std::string(key));
  if (!v) return;
  if (v->rfind("sha256//", 0) != 0 && (v->empty() || (*v)[0] != '/')) {
    g.problem(*t.get(key), std::string(key), "must be \"sha256//<base64>\" (several joined by ';') or the absolute path of a public key file");
    return;
  }
  c.tls.pinned_public_key = *v;
  if (v->rfind("sha256//", 0) == 0) c.tls.pin = *v;
}

void apply_state_store(const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
  const auto v = g.string(t, key, std::string(key));
  if (!v || v->empty()) return;
  std::string why;
  c.store_target = store::parse_pg_uri(*v, &why);
  if (!c.store_target) g.problem(*t.get(key), std::string(key), "'" + store::redact_pg_uri(*v) + "': " + why);
  c.state_store = store::redact_pg_uri(*v);  // (a URI with a password is refused above)
}

// Seconds, whole or not: a budget below a second is a reasonable choice.
void apply_store_timeout(const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return;
  const auto v = n->value<double>();  // an integer or a float
  if (!v || !(*v >= 0.1 && *v <= 30)) return g.problem(*n, std::string(key), "must be a number of seconds from 0.1 to 30");
  c.store_timeout_ms = static_cast<int>(std::lround(*v * 1000));
}

// The shared store's files: the password file with the secrets' rules, and
// the files its URI names with the TLS files' (libpq reads those itself).
void load_store_files(const toml::table& doc, Config& c, tomlu::TomlReader& g) {
  if (!c.store_target) return;
  const toml::node& at = *doc.get("state_store");
  auto check = [&](const std::string& what, const std::string& path, bool secret, const toml::node& where,
                   const char* key) -> std::optional<SafeFile> {
    if (path.empty()) return std::nullopt;
    std::string why;
    auto file = read_safe_file(path, why);
    if (file && secret)
      if (auto problem = secret_mode_problem(*file, c.secrets_group)) why = *problem, file.reset();
    if (!file) g.problem(where, key, what + " '" + path + "' " + why);
    return file;
  };
  const store::PgTarget& t = *c.store_target;
  check("sslrootcert", t.sslrootcert, false, at, "state_store");
  check("sslcrl", t.sslcrl, false, at, "state_store");
  check("sslcert", t.sslcert, false, at, "state_store");
  if (auto key = check("sslkey", t.sslkey, true, at, "state_store")) {
    // (libpq would ask for the passphrase at each login; pgstore refuses that.)
    const std::string_view pem = key->text.reveal();
    if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
        pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos)
      g.problem(at, "state_store", "sslkey '" + t.sslkey + "' is encrypted: a login has no one to type its passphrase "
                                   "(openssl pkey -in KEY -out PLAIN, mode 0600)");
  }
  if (!c.state_password_file.empty()) {
    const toml::node& where = *doc.get("state_password_file");
    if (c.state_password_file[0] != '/') return g.problem(where, "state_password_file", "must be an absolute path");
    if (auto f = check("the file", c.state_password_file, true, where, "state_password_file")) {
      const std::string_view text = f->text.reveal();
      c.state_password = Secret(text.substr(0, text.find('\n')));
      if (c.state_password.empty()) g.problem(where, "state_password_file", "'" + c.state_password_file + "' is empty");
    }
  }
  const bool tcp = std::any_of(t.hosts.begin(), t.hosts.end(), [](const store::PgHost& h) { return !h.socket_dir(); });
  if (tcp && c.state_password_file.empty() && !t.client_certificate())
    g.problem(at, "state_store",
              "a server over TCP needs state_password_file, or a client certificate (sslcert and sslkey in the URI)");
  if (c.store_timeout_ms > c.deadline * 1000)
    g.problem(at, "state_store", "store_timeout must fit in deadline (" + std::to_string(c.deadline) + " s)");
}

// The TLS files, read once with the config's rules (no symlink, a regular
// file owned by root or the application's user, not writable by others; the
// client key not readable by others), so the file checked is the file used.
void load_trust_files(const toml::table& doc, Config& c, tomlu::TomlReader& g) {
  auto read = [&](const char* key, const std::string& path, bool secret) -> std::optional<SafeFile> {
    if (path.empty()) return std::nullopt;
    std::string why;
    auto file = read_safe_file(path, why);
    if (file && secret)
      if (auto problem = secret_mode_problem(*file, c.secrets_group)) why = *problem, file.reset();
    if (!file) g.problem(*doc.get(key), key, "'" + path + "' " + why);
    return file;
  };
  if (auto f = read("ca_file", c.tls.ca_file, false)) c.tls.ca_pem = f->text.reveal();
  if (auto f = read("client_cert", c.tls.client_cert, false)) c.tls.client_cert_pem = f->text.reveal();
  if (auto f = read("client_key", c.tls.client_key, true)) c.tls.client_key_pem = std::move(f->text);
  if (c.tls.pinned_public_key.empty() || !c.tls.pin.empty()) return;
  if (auto f = read("pinned_public_key", c.tls.pinned_public_key, false)) {
    if (auto pin = http::spki_pin(f->text.reveal())) c.tls.pin = *pin;
    else g.problem(*doc.get("pinned_public_key"), "pinned_public_key",
                   "'" + c.tls.pinned_public_key + "' holds no public key (PEM or DER)");
  }
}

// ca_path: OpenSSL reads its certificates during each handshake, so what is
// checked is that nobody but root (or the application's user) can change
// them: the directory and every certificate in it (links followed).
void check_ca_path(const toml::table& doc, Config& c, tomlu::TomlReader& g) {
  const std::string& dir = c.tls.ca_path;
  if (dir.empty()) return;
  if (!c.tls.ca_file.empty()) {
    g.problem(*doc.get("ca_path"), "ca_path", "set ca_file or ca_path, not both");
    return;
  }
  auto refuse = [&](const std::string& why) { g.problem(*doc.get("ca_path"), "ca_path", "'" + dir + "' " + why); };
  const auto unsafe = [](const struct stat& st) {
    return (st.st_uid != 0 && st.st_uid != ::geteuid()) || (st.st_mode & 022) != 0;
  };
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return refuse("is not a directory (a directory of hashed CA certificates, as openssl rehash makes)");
  if (unsafe(st)) return refuse("must be owned by root and not writable by group or others");
  std::error_code ec;
  int certificates = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (::stat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (unsafe(st)) return refuse("holds " + entry.path().filename().string() +
                                  ", owned by another user or writable by group or others");
    if (++certificates > 10000) return refuse("holds more than 10000 files");
  }
  if (ec) refuse("cannot be read: " + ec.message());
}

void apply_proxy(const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
  const auto v = g.string(t, key, std::string(key));
  if (!v) return;
  if (!v->empty() && !http::parse_url(*v))
    g.problem(*t.get(key), std::string(key),
              "'" + http::redact_url(*v) + "' is not a proxy URL (e.g. http://proxy.example:3128; percent-encode "
              "'@', '/' and ':' in its user name and password)");
  else c.tls.proxy = *v;
}

void apply_messages(const toml::table& t, Config& c, tomlu::TomlReader& g, std::string_view key) {
  const auto* m = g.table(t, key, std::string(key));
  if (m == nullptr) return;
  for (const auto& [name, value] : *m) {
    const std::string path = std::string(key) + "." + std::string(name.str());
    if (!c.messages.count(name.str())) { g.problem(value, path, "unknown message"); continue; }
    const auto v = g.string(*m, name.str(), path);
    if (!v) continue;
    if (auto problem = message_problem(*v)) g.problem(value, path, *problem);
    else c.messages[std::string(name.str())] = *v;
  }
}

// Every channel, and "ask".
std::vector<std::string_view> channel_words() {
  std::vector<std::string_view> words;
  for (const auto& c : provider::channels()) words.push_back(c.name);
  words.push_back("ask");
  return words;
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = {
      {"debug", boolean(&Config::debug)},
      {"failmode", one_of(&Config::failmode, {FailMode::Secure, FailMode::Safe, FailMode::Recovery})},
      {"attempts", integer(&Config::attempts, 1, 20)},
      {"resends", integer(&Config::resends, 0, 10)},
      {"resend_cooldown", integer(&Config::resend_cooldown, 0, 3600)},
      {"code_pattern", custom(apply_code_pattern, [](const Config& c, toml::table& out, std::string_view key) {
         out.insert(key, c.code_pattern.source());
       })},
      {"echo_code", boolean(&Config::echo_code)},
      {"channel", {choice(channel_words(), [](Config& c, const std::string& v) { c.channel = v; }),
                   [](const Config& c, toml::table& out, std::string_view key) { out.insert(key, c.channel); }}},
      {"unenrolled", one_of(&Config::unenrolled, {Unenrolled::Deny, Unenrolled::Allow})},
      {"users_file", text(&Config::users_file)},
      {"require_groups", list(&Config::require_groups)},
      {"exempt_groups", list(&Config::exempt_groups)},
      {"exempt_networks", checked_list(&Config::exempt_networks, apply_networks)},
      {"exempt_services", list(&Config::exempt_services)},
      {"require_ssh_methods", checked_list(&Config::require_ssh_methods, apply_ssh_methods)},
      {"timeout", integer(&Config::timeout, 1, 300)},
      {"connect_timeout", integer(&Config::connect_timeout, 1, 60)},
      {"deadline", integer(&Config::deadline, 1, 3600)},
      {"ca_file", tls_path(&http::TlsOptions::ca_file)},
      {"ca_path", tls_path(&http::TlsOptions::ca_path)},
      {"pinned_public_key", custom(apply_pin, [](const Config& c, toml::table& out, std::string_view key) {
         if (!c.tls.pinned_public_key.empty()) out.insert(key, c.tls.pinned_public_key);
       })},
      {"client_cert", tls_path(&http::TlsOptions::client_cert)},
      {"client_key", tls_path(&http::TlsOptions::client_key)},
      // It may carry a user name and password: shown without them.
      {"proxy", custom(apply_proxy, [](const Config& c, toml::table& out, std::string_view key) {
         if (!c.tls.proxy.empty()) out.insert(key, http::redact_url(c.tls.proxy));
       })},
      {"secrets_file", text(&Config::secrets_file, false)},
      {"secrets_group", text(&Config::secrets_group, false)},
      {"messages", custom(apply_messages, [](const Config& c, toml::table& out, std::string_view key) {
         toml::table messages;
         for (const auto& [name, text] : c.messages) messages.insert(name, text);
         out.insert(key, std::move(messages));
       })},
      {"state_file", text(&Config::state_file)},
      {"state_service", text(&Config::state_service)},
      {"state_store", custom(apply_state_store, [](const Config& c, toml::table& out, std::string_view key) {
         if (!c.state_store.empty()) out.insert(key, store::redact_pg_uri(c.state_store));
       })},
      {"state_password_file", text(&Config::state_password_file, false)},
      {"store_timeout", custom(apply_store_timeout, [](const Config& c, toml::table& out, std::string_view key) {
         out.insert(key, c.store_timeout_ms / 1000.0);
       })},
      {"recovery", one_of(&Config::recovery, {RecoveryUse::Off, RecoveryUse::Outage, RecoveryUse::Always})},
      {"remember", integer(&Config::remember, 0, 90 * 86400)},
      {"remember_services", list(&Config::remember_services)},
      {"send_limit", custom(apply_send_limit, [](const Config& c, toml::table& out, std::string_view key) {
         toml::table limits;
         for (const auto& row : kSendLimits)
           if (c.send_limit[row.scope].on()) limits.insert(row.key, rate_limit_text(c.send_limit[row.scope]));
         out.insert(key, std::move(limits));
       })},
      {"directory", custom(apply_directory, show_directory)},
      // (After directory: its default follows it.)
      {"destinations", custom(apply_destinations, [](const Config& c, toml::table& out, std::string_view key) {
         out.insert(key, array_of(c.destinations));
       })},
      {"destination_user", one_of(&Config::destination_user, {DestinationUser::Target, DestinationUser::Caller})},
      {"caller_services", list(&Config::caller_services)},
  };
  return table;
}

}  // namespace

toml::table shown_settings(const Config& cfg) {
  toml::table out;
  for (const auto& s : settings()) s.handling.show(cfg, out, s.key);
  return out;
}

std::vector<std::string_view> top_level_keys() {
  std::vector<std::string_view> keys = {"provider"};
  for (const auto& s : settings()) keys.push_back(s.key);
  return keys;
}

void apply_settings(const toml::table& doc, Config& cfg, tomlu::TomlReader& get) {
  for (const auto& m : default_messages()) cfg.messages[std::string(m.key)] = std::string(m.text);
  for (const auto& [key, value] : doc) {
    if (key.str() == "provider" || key.str() == "@provider") continue;
    bool known = false;
    for (const auto& s : settings()) known = known || s.key == key.str();
    if (!known) get.problem(value, std::string(key.str()), "unknown key");
  }
  for (const auto& s : settings()) {
    s.handling.apply(doc, cfg, get, s.key);
    if (const toml::node* n = doc.get(s.key))
      cfg.origin[std::string(s.key)] = {tomlu::file_of(*n, get.file()), tomlu::line_of(*n)};
  }
  // The default connect_timeout follows a shorter timeout; two explicit
  // values that contradict each other are an error.
  if (cfg.connect_timeout > cfg.timeout) {
    if (const toml::node* where = doc.get("connect_timeout"))
      get.problem(*where, "connect_timeout", "must not be longer than timeout (" + std::to_string(cfg.timeout) + " s)");
    else
      cfg.connect_timeout = cfg.timeout;
  }
  // A relative path would be resolved against the PAM application's working
  // directory, which under sudo is the invoking user's.
  for (const auto& [key, path] : {std::pair<const char*, const std::string*>{"users_file", &cfg.users_file},
                                  {"secrets_file", &cfg.secrets_file}, {"state_file", &cfg.state_file},
                                  {"state_service", &cfg.state_service}})
    if (!path->empty() && (*path)[0] != '/') get.problem(*doc.get(key), key, "must be an absolute path");
  if (const toml::node* where = doc.get("failmode");
      where != nullptr && cfg.failmode == FailMode::Recovery && cfg.recovery == RecoveryUse::Off)
    get.problem(*where, "failmode",
                "\"recovery\" lets users in with a recovery code while the provider is unavailable, but recovery is "
                "\"off\": set recovery = \"outage\" or \"always\"");
  load_trust_files(doc, cfg, get);
  check_ca_path(doc, cfg, get);
  load_store_files(doc, cfg, get);
  load_directory_files(doc, cfg, get);
}

}  // namespace otp::config
