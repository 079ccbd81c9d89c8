// pam-otp recovery (issue, list, revoke) and pam-otp state (list, forget):
// the administrator's view of the local state (state_file).
#include <pwd.h>

#include <ctime>
#include <iostream>
#include <sstream>

#include "base/text.h"
#include "cli/commands.h"
#include "config/cidr.h"
#include "store/keyed_hash.h"
#include "store/recovery_codes.h"
#include "config/safe_file.h"
#include "store/migrate.h"
#include "store/pg_admin.h"
#include "store/pg_schema.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"

namespace otp::cli {
namespace {

constexpr char kRecoveryUsage[] = R"(Usage: pam-otp recovery issue USER [--count N] [--config PATH] [--arg KEY=VALUE]...
       pam-otp recovery list USER
       pam-otp recovery revoke USER
       ... [--store URI --password-file FILE]

Recovery codes let USER in when the phone is lost (recovery = "always") or
the provider is down (failmode = "recovery"); each works once.

  issue    make N new codes (default 10, at most 100), replacing USER's
           earlier ones, and print them once: only their slow salted hashes
           (scrypt) are kept. Hand them over on paper or in a password
           manager.
  list     how many of USER's codes are left, and when and through which
           service each used one was used
  revoke   remove all of USER's codes

USER is looked up as a login would (the passwd name). The codes are kept in
the config's state_file (default /var/lib/pam_otp/state.db), or in the
shared store when state_store names one: then they work on every host of
the fleet, and issuing or revoking them needs an administrator's role
(pam-otp state init --grant-admin), named by --store with its password in
--password-file; the configured login role may only read them (list).
Run as root. Exit status: 0 done, 1 failed, 2 usage error.
)";

constexpr char kStateUsage[] = R"(Usage: pam-otp state list [USER] [--config PATH] [--arg KEY=VALUE]...
       pam-otp state forget USER
       pam-otp state forget --rhost ADDRESS
       pam-otp state init [--grant ROLE] [--grant-admin ROLE] [--key-from FILE]
       pam-otp state migrate [--from FILE]
       ... [--store URI --password-file FILE]

  list     the remembered logins (remember = SECONDS): user, service, when
           the code was verified and until when the client skips it; with
           USER, also the codes sent to USER within send_limit.user
  forget   remove USER's remembered logins and send_limit counters (theirs,
           and their share of every address's); with --rhost, the
           send_limit counters of ADDRESS (as PAM_RHOST gives it: sshd's
           client address), its own and every user's share of it
  init     create pam_otp's schema in the shared store (state_store), or
           bring it up to this version; run again after an upgrade, as a
           role that may create a schema (--store). --grant gives ROLE what
           a login needs and no more (EXECUTE on the functions a login
           calls; nothing on the tables), revoking pam_otp's other
           functions if they were granted to ROLE itself; with
           --store, ROLE defaults to the configured state_store's user.
           --grant-admin gives ROLE an administrator's rights (every
           function: the commands here and pam-otp recovery). --key-from
           gives a new shared store the hash key of the state file FILE
           (this host's), so that migrate can copy its remembered logins
           and per-address counts
  migrate  copy this host's state file (--from FILE, default the config's
           state_file) into the shared store: recovery codes (and which are
           used), remembered logins, send counts of the last 31 days. Run
           again, it copies nothing twice. A user whose codes in the shared
           store differ is reported and left alone (exit status 1)

The state is the config's state_store when it names one, else its
state_file (default /var/lib/pam_otp/state.db). --store URI acts on that
shared store instead, as the role it names, with the password in
--password-file (a file only root can read): list, forget and migrate
need an administrator's role there, which a login role is not.
Run as root. Exit status: 0 done, 1 failed, 2 usage error.
)";

std::string when(std::int64_t unix_time) {
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  char text[32];
  if (::gmtime_r(&t, &tm) == nullptr || std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm) == 0) return "?";
  return text;
}

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// The passwd name of USER, as a login would use it.
std::optional<std::string> canonical_user(const std::string& name, const char* command, std::ostream& err) {
  if (const passwd* pw = ::getpwnam(name.c_str())) return std::string(pw->pw_name);
  err << "pam-otp " << command << ": no user '" << name << "' (no passwd entry)\n";
  return std::nullopt;
}

struct Parsed {
  CommonOptions common;
  std::vector<std::string> words;  // action, USER
  int count = 10;
  std::optional<std::string> rhost;  // state forget --rhost ADDRESS
  std::optional<std::string> store, password_file;                  // the shared store, as another role
  std::optional<std::string> grant, grant_admin, key_from;           // state init
  std::optional<std::string> from;                                    // state migrate
};

bool parse(const std::vector<std::string>& arguments, Parsed& p, const char* command, const char* usage,
           std::ostream& err) {
  std::vector<std::string> args = arguments;
  if (!take_common_options(args, p.common, err)) return false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--count" && i + 1 < args.size()) {
      const std::string& v = args[++i];
      if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(v) < 1 || std::stoi(v) > 100) {
        err << "pam-otp " << command << ": --count must be from 1 to 100, not '" << v << "'\n";
        return false;
      }
      p.count = std::stoi(v);
    } else if (args[i] == "--rhost" && i + 1 < args.size() && std::string(command) == "state") {
      p.rhost = args[++i];
      if (p.rhost->empty() || sanitize(*p.rhost, 256) != *p.rhost) {
        err << "pam-otp state: --rhost needs an address as PAM_RHOST gives it, not '" << sanitize(*p.rhost, 64) << "'\n";
        return false;
      }
    } else if ((args[i] == "--store" || args[i] == "--password-file") && i + 1 < args.size()) {
      auto& field = args[i] == "--store" ? p.store : p.password_file;
      field = args[++i];  // (after choosing: the right side of = is evaluated first)
    } else if ((args[i] == "--grant" || args[i] == "--grant-admin" || args[i] == "--key-from" || args[i] == "--from") &&
               i + 1 < args.size() && std::string(command) == "state") {
      auto& field = args[i] == "--grant"         ? p.grant
                    : args[i] == "--grant-admin" ? p.grant_admin
                    : args[i] == "--key-from"    ? p.key_from
                                                 : p.from;
      field = args[++i];
    } else if (!args[i].empty() && args[i][0] == '-') {
      err << "pam-otp " << command << ": unexpected argument '" << args[i] << "'\n" << usage;
      return false;
    } else {
      p.words.push_back(args[i]);
    }
  }
  return true;
}

// The shared store --store names (its password from --password-file),
// else the configuration's state_store (its password from --password-file
// when given): false after saying why; `out` empty when neither names one.
bool shared_target(const Parsed& p, const config::Config* c, const std::string& command,
                   std::optional<store::PgConnectOptions>& out, std::ostream& err) {
  out.reset();
  if (p.store) {
    std::string why;
    auto target = store::parse_pg_uri(*p.store, &why);
    if (!target) return err << "pam-otp " << command << ": --store '" << store::redact_pg_uri(*p.store) << "': " << why << "\n", false;
    out = store::PgConnectOptions{std::move(*target), Secret()};
  } else if (c != nullptr && c->store_target) {
    out = store::PgConnectOptions{*c->store_target, c->state_password};
  } else if (p.password_file) {
    return err << "pam-otp " << command << ": --password-file is for a shared store (state_store or --store)\n", false;
  }
  if (out && p.password_file) {
    std::string why;
    auto file = config::read_safe_file(*p.password_file, why);
    if (file)
      if (auto problem = config::secret_mode_problem(*file, c != nullptr ? c->secrets_group : "")) why = *problem, file.reset();
    if (!file) return err << "pam-otp " << command << ": --password-file '" << *p.password_file << "' " << why << "\n", false;
    const std::string_view text = file->text.reveal();
    out->password = Secret(text.substr(0, text.find('\n')));
  }
  return true;
}

// The configuration (nullptr in `loaded` when --store stands in for a
// configuration that does not load), and the store to act on: --store's,
// else the configured one. nullptr after saying why.
std::unique_ptr<store::Store> open_state(const Parsed& p, const std::string& command, std::ostream& err,
                                         std::unique_ptr<config::Loaded>& loaded,
                                         std::chrono::seconds budget = std::chrono::seconds(30)) {
  std::ostringstream config_errors;
  loaded = load_or_report(p.common.module_args, config_errors);
  if (!loaded && !p.store) {
    err << config_errors.str() << "pam-otp " << command << ": the configuration has errors (pam-otp check)\n";
    return nullptr;
  }
  if (!loaded)
    err << "pam-otp " << command << ": the configuration does not load (pam-otp check); going on with --store alone\n";
  std::optional<store::PgConnectOptions> shared;
  if (!shared_target(p, loaded ? &loaded->config : nullptr, command, shared, err)) return nullptr;
  try {
    // An administrator's command may wait longer than a login.
    if (shared) return store::open_pg_store(std::move(*shared), budget);
    return store::open_sqlite_store(loaded->config.state_file);
  } catch (const std::exception& e) {
    err << "pam-otp " << command << ": " << e.what() << "\n";
    return nullptr;
  }
}

int issue(store::Store& state, const std::string& user, int count, std::ostream& out) {
  const auto codes = store::make_recovery_codes(count);
  const std::string salt = store::make_salt();
  std::vector<std::string> hashes;
  for (const auto& code : codes)
    hashes.push_back(store::hash_recovery_code(*store::normalize_recovery_code(code.reveal()), salt));
  state.set_recovery_codes(user, salt, hashes, now());
  out << "Recovery codes for " << user << " (each works once; earlier ones no longer work):\n\n";
  for (const auto& code : codes) out << "  " << code.reveal() << "\n";
  out << "\nThey are shown only now. Keep them where " << user << " can reach them without this machine.\n";
  return kExitOk;
}

int list_codes(store::Store& state, const std::string& user, std::ostream& out) {
  const auto batch = state.recovery_codes(user);
  if (!batch) {
    out << user << " has no recovery codes (pam-otp recovery issue " << user << ")\n";
    return kExitOk;
  }
  int left = 0;
  for (const auto& c : batch->codes) left += c.used_at ? 0 : 1;
  out << user << ": " << left << " of " << batch->codes.size() << " recovery codes left, issued "
      << when(batch->issued_at) << "\n";
  int number = 0;
  for (const auto& c : batch->codes) {
    ++number;
    if (c.used_at) out << "  code " << number << ": used " << when(*c.used_at) << " (" << c.used_by << ")\n";
  }
  return kExitOk;
}

// Whom state init grants a login's rights: --grant, else, when --store
// names another role than the configured store's, the configured one.
std::string login_grant(const Parsed& p, const config::Config* c) {
  if (p.grant) return *p.grant;
  if (p.store && c != nullptr && c->store_target) {
    const auto target = store::parse_pg_uri(*p.store, nullptr);
    if (target && target->user != c->store_target->user) return c->store_target->user;
  }
  return "";
}

int init_shared_store(const Parsed& p, std::ostream& out, std::ostream& err) {
  std::ostringstream config_errors;
  const auto loaded = load_or_report(p.common.module_args, config_errors);
  if (!loaded && !p.store) {
    err << config_errors.str() << "pam-otp state init: the configuration has errors (pam-otp check)\n";
    return kExitFailed;
  }
  const config::Config* c = loaded ? &loaded->config : nullptr;
  std::optional<store::PgConnectOptions> options;
  if (!shared_target(p, c, "state init", options, err)) return kExitFailed;
  if (!options) {
    err << "pam-otp state init: the configuration names no state_store, and no --store was given\n";
    return kExitFailed;
  }
  const std::string grant = login_grant(p, c);
  try {
    const Secret key = p.key_from ? store::export_sqlite_store(*p.key_from, now()).hash_key : Secret();
    const auto done = store::pg_init(*options, grant, std::chrono::seconds(60), key, p.grant_admin.value_or(""));
    const std::string where = store::describe(options->target);
    if (done.found_version == 0) out << "Created pam_otp's schema (version " << store::kPgSchemaVersion << ") in " << where;
    else if (done.found_version < store::kPgSchemaVersion)
      out << "Upgraded pam_otp's schema from version " << done.found_version << " to " << store::kPgSchemaVersion << " in " << where;
    else out << "pam_otp's schema in " << where << " is version " << store::kPgSchemaVersion << " (unchanged)";
    out << " (" << done.connection << ")" << (done.key_made ? ", with a new hash key" : "") << ".\n";
    if (!grant.empty())
      out << "Granted " << grant << " what a login needs, and no more: EXECUTE on the functions a login calls.\n";
    if (p.grant_admin)
      out << "Granted " << *p.grant_admin
          << " an administrator's rights: EXECUTE on every pam_otp function (recovery codes, state list, forget, "
             "migrate).\n";
    if (p.key_from && !done.key_made)
      out << (done.key_differs ? "The shared store already had another hash key, kept: --key-from applies to a new one.\n"
                               : "The shared store already had the hash key of " + *p.key_from + ".\n");
    return kExitOk;
  } catch (const std::exception& e) {
    err << "pam-otp state init: " << e.what() << "\n";
    return kExitFailed;
  }
}

int migrate_to_shared_store(const Parsed& p, std::ostream& out, std::ostream& err) {
  std::unique_ptr<config::Loaded> loaded;
  // (A round trip per count copied: a busy host's month of them takes a while.)
  const auto shared = open_state(p, "state migrate", err, loaded, std::chrono::seconds(600));
  if (!shared) return kExitFailed;
  if (!p.store && !loaded->config.store_target) {
    err << "pam-otp state migrate: the configuration names no state_store to copy into, and no --store was given\n";
    return kExitFailed;
  }
  if (!p.from && !loaded) {
    err << "pam-otp state migrate: no --from, and no configuration to name state_file\n";
    return kExitFailed;
  }
  const std::string from = p.from ? *p.from : loaded->config.state_file;
  // (--store was parsed by open_state, which said why if it could not be.)
  const auto named = p.store ? store::parse_pg_uri(*p.store, nullptr) : loaded->config.store_target;
  const std::string into = named ? store::describe(*named) : "the shared store";
  try {
    const auto report = store::migrate_state(store::export_sqlite_store(from, now()), *shared);
    out << "Copied from " << from << " into " << into << ":\n"
        << "  recovery codes: " << report.users_copied << " users copied, " << report.users_present
        << " already there (uses merged), " << report.conflicts.size() << " left alone\n"
        << "  remembered logins: " << report.remembered_copied << " copied\n"
        << "  send and recovery counts: " << report.events_copied << " copied, " << report.events_present
        << " already there\n";
    if (report.remembered_skipped + report.address_events_skipped > 0)
      out << "Not copied: " << report.remembered_skipped << " remembered logins and " << report.address_events_skipped
          << " per-address counts, kept under this host's hash key, not the shared store's (pam-otp state init "
             "--key-from gives a new shared store a host's key); those clients are asked for a code once more.\n";
    for (const auto& conflict : report.conflicts) err << "pam-otp state migrate: " << conflict << "\n";
    return report.conflicts.empty() ? kExitOk : kExitFailed;
  } catch (const std::exception& e) {
    err << "pam-otp state migrate: " << e.what() << "\n";
    return kExitFailed;
  }
}

}  // namespace

int run_recovery(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Parsed p;
  if (!parse(args, p, "recovery", kRecoveryUsage, err)) return kExitUsage;
  if (p.common.help) {
    out << kRecoveryUsage;
    return kExitOk;
  }
  const bool known = p.words.size() == 2 && (p.words[0] == "issue" || p.words[0] == "list" || p.words[0] == "revoke");
  if (!known) {
    err << kRecoveryUsage;
    return kExitUsage;
  }
  const auto user = canonical_user(p.words[1], "recovery", err);
  if (!user) return kExitFailed;
  std::unique_ptr<config::Loaded> loaded;
  const auto state = open_state(p, "recovery", err, loaded);
  if (!state) return kExitFailed;
  try {
    if (p.words[0] == "issue") return issue(*state, *user, p.count, out);
    if (p.words[0] == "list") return list_codes(*state, *user, out);
    state->set_recovery_codes(*user, "", {}, now());
    out << "Removed " << *user << "'s recovery codes.\n";
    return kExitOk;
  } catch (const std::exception& e) {
    err << "pam-otp recovery: " << e.what() << "\n";
    return kExitFailed;
  }
}

int run_state(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Parsed p;
  if (!parse(args, p, "state", kStateUsage, err)) return kExitUsage;
  if (p.common.help) {
    out << kStateUsage;
    return kExitOk;
  }
  const bool list = !p.words.empty() && p.words[0] == "list" && p.words.size() <= 2 && !p.rhost;
  const bool forget = p.words.size() == 2 && p.words[0] == "forget" && !p.rhost;
  const bool forget_rhost = p.words.size() == 1 && p.words[0] == "forget" && p.rhost;
  const bool init = p.words.size() == 1 && p.words[0] == "init" && !p.rhost;
  if (init) return init_shared_store(p, out, err);
  if (p.words.size() == 1 && p.words[0] == "migrate" && !p.rhost) return migrate_to_shared_store(p, out, err);
  if (!list && !forget && !forget_rhost) {
    err << kStateUsage;
    return kExitUsage;
  }
  std::string user;
  if (p.words.size() == 2) {
    const auto canonical = canonical_user(p.words[1], "state", err);
    if (!canonical) return kExitFailed;
    user = *canonical;
  }
  std::unique_ptr<config::Loaded> loaded;
  const auto state = open_state(p, "state", err, loaded);
  if (!state) return kExitFailed;
  try {
    if (forget) {
      state->forget(user);
      out << "Forgot " << user << "'s remembered logins and send_limit counters.\n";
      return kExitOk;
    }
    if (forget_rhost) {
      const std::string address = config::canonical_address(*p.rhost);
      state->forget_rhost(store::keyed_hash(state->hash_key(), "rhost", address));
      out << "Forgot the send_limit counters of " << address << " (its own and every user's share of it).\n";
      return kExitOk;
    }
    const auto remembered = state->remembered(user, now());
    if (remembered.empty()) out << "No remembered logins" << (user.empty() ? "" : " for " + user) << ".\n";
    for (const auto& r : remembered)
      out << r.user << "  " << r.service << "  verified " << when(r.created_at) << ", remembered until "
          << when(r.expires_at) << "  (client " << r.key_hash.substr(0, 12) << ")\n";
    if (!loaded) return kExitOk;  // (--store without a configuration: no send_limit to report against)
    const auto& limit = loaded->config.send_limit[config::SendScope::User];
    if (!user.empty() && limit.on())
      out << user << ": " << state->count(store::kSendUser, user, now() - limit.window) << " of " << limit.max
          << " codes sent in the last " << config::rate_limit_text({1, limit.window}).substr(2) << " (send_limit.user)\n";
    return kExitOk;
  } catch (const std::exception& e) {
    err << "pam-otp state: " << e.what() << "\n";
    return kExitFailed;
  }
}

}  // namespace otp::cli
