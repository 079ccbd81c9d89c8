// pam-otp check: everything a login would refuse, and a few things it would
// tolerate but an administrator wants to know (unknown groups, users who
// would be unenrolled), before anyone is locked out.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>

#include "cli/commands.h"
#include "cli/sshd_check.h"
#include "cli/try_out.h"
#include "config/loader.h"
#include "directory/lookup.h"
#include "directory/plugin.h"
#include "flow/destinations.h"
#include "flow/scope.h"
#include "flow/sources.h"
#include "flow/user_directory.h"
#include "provider/template.h"
#include "http/curl_transport.h"
#include "http/plugin.h"
#include "http/url_policy.h"
#include "store/sqlite_store.h"
#include "store/pg_admin.h"
#include "store/pg_plugin.h"
#include "store/pg_schema.h"
#include "store/state_service.h"

namespace otp::cli {
namespace {

constexpr char kUsage[] = R"(Usage: pam-otp check [--config PATH] [--arg KEY=VALUE]... [--offline]
                      [--sshd-config FILE] [--pam-dir DIR]

Validates the config file, the secrets file and the users file as pam_otp
would at login (syntax, types, owners and modes, networks, phone numbers, the
preset's keys), then checks what a login would only tolerate: groups that do
not exist, users without a passwd entry or without a destination. Unless
--offline is given, each base_url must answer over TLS, and a [directory]
must bind and answer a test search (a name no one has) within its timeout.

When sshd is installed and its PAM stack (/etc/pam.d/sshd, directly or
through @include common-auth) reaches pam_otp, sshd's effective settings
(sshd -T, as root) are checked too: the password method, which answers the
code prompt with the password; keyboard-interactive; and, for the public key
+ code stack, AuthenticationMethods and require_ssh_methods.

pam_otp.so needs its HTTP plugin, pam_otp/http.so in the same directory:
without it every login pam_otp covers is refused. The plugin beside the
installed module (PAM_MODULE_DIR), and beside the one sshd's PAM stack
names, must load and be of this build.

  --sshd-config FILE  sshd's config file (default /etc/ssh/sshd_config)
  --pam-dir DIR       the PAM service directory (default /etc/pam.d)

Every problem is listed with its file and line. Exit status: 0 when there is
no error (warnings allowed), 1 when there is one, 2 on a usage error.
)";

void warn_where(Problems& problems, const config::Config& cfg, const std::string& key, std::string message) {
  const auto it = cfg.origin.find(key);
  const auto& [file, line] = it != cfg.origin.end() ? it->second : std::pair<std::string, int>{cfg.path, 0};
  problems.warn(file, line, key, std::move(message));
}

// A group a login cannot read decides nothing: a required one counts as
// one the user is in, an exempting one exempts nobody.
void check_groups(const config::Config& cfg, flow::UserDirectory& directory, Problems& problems) {
  for (const auto* key : {"require_groups", "exempt_groups"}) {
    const bool required = std::string(key) == "require_groups";
    const char* meaning = required ? "; logins count it as a group every user is in" : "; it exempts nobody";
    for (const auto& group : required ? cfg.require_groups : cfg.exempt_groups) {
      const auto lookup = directory.find_group(group);
      switch (lookup.status) {
        case flow::GroupLookup::Status::Found: break;
        case flow::GroupLookup::Status::Missing:
          warn_where(problems, cfg, key, "group '" + group + "' does not exist" + meaning);
          break;
        case flow::GroupLookup::Status::Error:
          warn_where(problems, cfg, key, "group '" + group + "' cannot be read: " + lookup.error + meaning);
          break;
      }
    }
  }
}

void check_user(const config::Loaded& loaded, const config::UserEntry& entry, flow::UserDirectory& directory,
                Problems& problems) {
  const auto& cfg = loaded.config;
  if (entry.name != "*" && !directory.find_user(entry.name))
    problems.warn(cfg.users_file, entry.line, "", "user '" + entry.name + "' has no passwd entry");
  const std::string channel = flow::preferred_channel(cfg, entry, std::nullopt);
  if (channel != "ask" && !cfg.provider.supports_channel(channel)) {
    problems.add(cfg.users_file, entry.line, "channel",
                 "provider '" + cfg.provider_name + "' has no channel '" + channel + "'; logins would fail");
    return;
  }
  const auto& countries = cfg.provider.phone_countries;
  if (const auto phone = entry.keys.find("phone"); phone != entry.keys.end() && !countries.empty()) {
    const auto parts = provider::split_e164(phone->second);
    if (parts && std::find(countries.begin(), countries.end(), parts->first) == countries.end()) {
      std::string list;
      for (const auto& c : countries) list += (list.empty() ? "+" : ", +") + c;
      problems.warn(cfg.users_file, entry.line, "phone",
                    "provider '" + cfg.provider_name + "' serves phone numbers of " + list + " only, not +" +
                        parts->first);
    }
  }
  if (flow::destination_options(cfg, entry, channel).empty())
    problems.warn(cfg.users_file, entry.line, "",
                  "'" + entry.name + "' has no destination for channel '" + channel + "' and will be unenrolled (" +
                      (cfg.unenrolled == config::Unenrolled::Allow ? "no code asked" : "login refused") + ")");
}

void check_literals(const config::Config& cfg, Problems& problems) {
  for (const auto& [key, why] : cfg.provider.warn_if_literal) {
    const auto it = cfg.provider.vars.find(key);
    if (it == cfg.provider.vars.end() || !it->second.isString()) continue;
    const std::string value = it->second.asString();
    if (!value.empty() && value.find("${") == std::string::npos)
      problems.warn(cfg.path, 0, "provider." + cfg.provider_name + "." + key, "is a fixed text: " + why);
  }
}

void check_users(const config::Loaded& loaded, flow::UserDirectory& directory, Problems& problems) {
  for (const auto& [name, entry] : loaded.users.listed()) check_user(loaded, entry, directory, problems);
  if (const auto& wildcard = loaded.users.wildcard()) check_user(loaded, *wildcard, directory, problems);
}

// Any HTTP answer proves DNS, TCP and TLS (with our CA and pin) work.
void check_reachable(const config::Config& cfg, Problems& problems) {
  const auto transport = http::make_curl_transport(cfg.tls);
  for (const auto& url : cfg.provider.base_urls) {
    http::Request request;
    request.method = "GET";
    request.url = url + "/";
    const provider::Limits limits = config::limits(cfg);
    request.timeout = limits.timeout;
    request.connect_timeout = limits.connect_timeout;
    const auto response = transport->perform(request);
    if (response.failure != http::Failure::None)
      problems.add(cfg.path, 0, "provider." + cfg.provider_name + ".base_url",
                   http::redact_url(url) + " cannot be reached: " + std::string(http::failure_name(response.failure)) + ": " +
                       response.error);
  }
}

// Logins work without the state file, but failmode = "recovery" depends on it.
void check_state(const config::Config& cfg, Problems& problems) {
  const std::string why = store::sqlite_store_health(cfg.state_file);
  if (why.empty()) return;
  const bool needed = cfg.failmode == config::FailMode::Recovery;
  const std::string message = "the local state cannot be used: " + why +
                              (needed ? "; failmode = \"recovery\" would refuse everyone while the provider is down"
                                      : "; logins go on without remembered logins, recovery codes or send_limit");
  const auto it = cfg.origin.find("state_file");
  const auto& [file, line] = it != cfg.origin.end() ? it->second : std::pair<std::string, int>{cfg.path, 0};
  if (needed) problems.add(file, line, "state_file", message);
  else problems.warn(file, line, "state_file", message);
}

// A service that is there but that logins cannot use (another file, not
// root's, its file unusable) is worth a word; no service is the default.
void check_state_service(const config::Config& cfg, Problems& problems) {
  if (cfg.state_service.empty()) return;
  std::string why;
  try {
    store::open_service_store(cfg.state_service, cfg.state_file)->hash_key();
    return;
  } catch (const store::ServiceAbsent&) {
    return;
  } catch (const std::exception& e) {
    why = e.what();
  }
  warn_where(problems, cfg, "state_service",
             "logins cannot use the state service: " + why + "; each opens the state file itself");
}

// The shared store as a login reaches it: connection, TLS, authentication,
// schema version, and the login role's rights (docs/design.md, "The shared store").
void check_shared_store(const config::Config& cfg, bool offline, Problems& problems) {
  if (!cfg.store_target) return;
  const std::string where = store::describe(*cfg.store_target);
  const auto it = cfg.origin.find("state_store");
  const auto& [file, line] = it != cfg.origin.end() ? it->second : std::pair<std::string, int>{cfg.path, 0};
  if (offline) return problems.note("shared store " + where + ": not contacted (--offline)");
  if (const std::string env = store::pg_environment_problem(); !env.empty())
    problems.warn(file, line, "state_store", env + ": a login with that environment does not use the shared store");
  const auto start = std::chrono::steady_clock::now();
  store::PgReport r;
  try {
    r = store::pg_report({*cfg.store_target, cfg.state_password}, std::chrono::seconds(10));
  } catch (const std::exception& e) {
    return problems.add(file, line, "state_store",
                        std::string(e.what()) + ": logins go on without remembered logins and recovery codes, and "
                                                "count send_limit in state_file");
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const auto functions = static_cast<std::size_t>(std::count_if(
      store::pg_functions().begin(), store::pg_functions().end(),
      [](const store::PgFunction& f) { return f.rights == store::PgRights::login; }));
  if (!r.missing_functions.empty())
    problems.add(file, line, "state_store",
                 cfg.store_target->user + " cannot run " + std::to_string(r.missing_functions.size()) + " of pam_otp's " +
                     std::to_string(functions) + " functions a login calls (first " + r.missing_functions.front() +
                     "): run pam-otp state init, with --grant " + cfg.store_target->user + " if another role owns the schema");
  if (r.isolation != "read committed")
    problems.add(file, line, "state_store",
                 "default_transaction_isolation is '" + r.isolation + "' for " + cfg.store_target->user +
                     ": counting needs read committed (ALTER ROLE ... RESET default_transaction_isolation)");
  if (!r.table_rights.empty()) {
    std::string rights;
    for (const auto& right : r.table_rights) rights += (rights.empty() ? "" : ", ") + right;
    problems.warn(file, line, "state_store",
                  cfg.store_target->user + " has rights a login does not need on pam_otp's tables (" + rights +
                      "): it needs EXECUTE on the functions only");
  }
  if (!r.admin_functions.empty())
    problems.warn(file, line, "state_store",
                  cfg.store_target->user + " may also run " + std::to_string(r.admin_functions.size()) +
                      " of an administrator's functions (first " + r.admin_functions.front() +
                      "), more than a login needs: a host's root could give anyone recovery codes for every host; "
                      "pam-otp state init --grant " + cfg.store_target->user +
                      " revokes those granted to it directly (held through another role: revoke that membership)");
  if (took.count() > cfg.store_timeout_ms)
    problems.warn(file, line, "store_timeout",
                  "reaching " + where + " took " + std::to_string(took.count()) + " ms, more than store_timeout (" +
                      std::to_string(cfg.store_timeout_ms) + " ms): logins would give up on it");
  problems.note("shared store " + where + ": PostgreSQL " + r.server_version + ", " + r.connection + "; schema version " +
                (r.schema_version > 0 ? std::to_string(r.schema_version) : "none usable") + "; " +
                std::to_string(functions - r.missing_functions.size()) + " of " + std::to_string(functions) +
                " login functions executable, " + std::to_string(r.admin_functions.size()) + " administrator's, " + std::to_string(r.table_rights.size()) + " rights on tables; " +
                std::to_string(took.count()) + " ms");
}

// The directory as a login asks it: connect, TLS, bind, and a search for a
// name no one has (an answer of "no entry" proves base, filter and rights
// work). docs/design.md, "Destinations from the directory".
void check_directory(const config::Config& cfg, bool offline, Problems& problems) {
  if (!cfg.directory) return;
  const auto& d = *cfg.directory;
  if (std::find(cfg.destinations.begin(), cfg.destinations.end(), "directory") == cfg.destinations.end())
    warn_where(problems, cfg, "destinations", "does not name the directory: [directory] is never asked");
  const auto it = cfg.origin.find("directory");
  const auto& [file, line] = it != cfg.origin.end() ? it->second : std::pair<std::string, int>{cfg.path, 0};
  const std::string servers = [&] {
    std::string out;
    for (const auto& uri : d.uris) out += (out.empty() ? "" : ", ") + uri;
    return out;
  }();
  if (offline) return problems.note("directory " + servers + ": not contacted (--offline)");
  if (cfg.unenrolled == config::Unenrolled::Allow)
    warn_where(problems, cfg, "unenrolled",
               "is \"allow\" with a [directory]: a user who may clear their own attribute there logs in without a "
               "code (see pam_otp.conf(5), THE DIRECTORY)");
  std::string attributes;
  for (const auto& [channel, attribute] : d.attributes) attributes += (attributes.empty() ? "" : ", ") + attribute;
  problems.note("directory: codes go where " + attributes + " say: make sure only administrators can write them "
                "(FreeIPA's \"User Self service\" and Active Directory's SELF may write mobile and telephoneNumber "
                "by default), or whoever has a user's password can send that user's codes to their own phone");
  const std::string probe = "pam-otp-check-no-such-user";
  const auto start = std::chrono::steady_clock::now();
  directory::Answer answer;
  try {
    answer = directory::lookup(flow::lookup_options(d), probe, start + std::chrono::milliseconds(d.timeout_ms));
  } catch (const directory::Unavailable& e) {
    return problems.add(file, line, "directory",
                        std::string(e.what()) + ": every login the directory would decide is an outage (failmode "
                                                "decides, and nobody is unenrolled for it)");
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  problems.note("directory " + servers + ": TLS verified, " + (d.bind_dn.empty() ? "SASL EXTERNAL or anonymous" : "bound as " + d.bind_dn) +
                ", a test search under " + d.base + " answered " + (answer.entry ? "with an entry (" + answer.dn + ")" : "no entry") +
                " in " + std::to_string(took.count()) + " ms");
}

}  // namespace

namespace {

// The entry point the module at `path` asks its plugin for: its name is a
// string in the module's read-only data (http/plugin.h). nullopt when the
// file cannot be read or holds none.
std::optional<std::string> wanted_entry(const std::string& module, const std::string& prefix) {
  std::ifstream in(module, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = text.find(prefix);
  if (at == std::string::npos) return std::nullopt;
  auto end = at + prefix.size();
  const auto in_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
  while (end < text.size() && in_name(text[end])) ++end;
  return text.substr(at, end - at);
}

// pam_otp.so needs its HTTP plugin beside it, of its own build: without it
// every login the module covers is refused.
void check_plugin_of(const std::string& module, bool needs_directory, Problems& problems) {
  const std::string plugin = module.substr(0, module.rfind('/')) + "/pam_otp/http.so";
  const auto symbol = wanted_entry(module, "pam_otp_http_transport_");
  if (!symbol) {
    problems.warn(module, 0, "", "holds no HTTP plugin entry point name: cannot tell which plugin it needs");
    return;
  }
  if (const auto why = http::plugin_problem(plugin, *symbol))
    problems.add(module, 0, "", *why + ": every login this pam_otp covers is refused until the plugin of " +
                                    "its build is installed as " + plugin + " (the package and cmake --install do)");
  // Its shared store's plugin: without it, a state_store is unusable (logins
  // go on without it).
  const std::string pg_plugin = module.substr(0, module.rfind('/')) + "/pam_otp/pgstore.so";
  if (const auto pg_symbol = wanted_entry(module, "pam_otp_pg_store_"))
    if (const auto why = store::pg_plugin_problem(pg_plugin, *pg_symbol))
      problems.warn(module, 0, "", *why + ": logins through this module cannot use a shared store (state_store)");
  // The directory's: without it, every login the directory would decide is an outage.
  const std::string directory_plugin = module.substr(0, module.rfind('/')) + "/pam_otp/directory.so";
  if (const auto directory_symbol = wanted_entry(module, "pam_otp_directory_"))
    if (const auto why = directory::plugin_problem(directory_plugin, *directory_symbol)) {
      const std::string text = *why + ": logins through this module cannot ask the directory ([directory]); each it "
                                      "would decide is an outage";
      if (needs_directory) problems.add(module, 0, "", text);
      else problems.warn(module, 0, "", text);
    }
  // And its state helper, for logins whose caller could stop them.
  const std::string helper = module.substr(0, module.rfind('/')) + "/pam_otp/state-helper";
  struct stat st {};
  if (::stat(helper.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(helper.c_str(), X_OK) != 0)
    problems.add(module, 0, "", "the state helper " + helper + " cannot be run: su and sudo logins this pam_otp " +
                                    "covers are refused while the local state is in use (send_limit, remember, " +
                                    "recovery); install it beside the module (the package and cmake --install do)");
}

// The module sshd's stack names (with enable: the one it is about to add)
// and the installed one.
void check_plugins(const SshdPaths& sshd, const std::string& stand_in, bool needs_directory, Problems& problems) {
  if (!sshd.check_modules) return;
  const std::string dir = PAM_OTP_MODULE_DIR, installed = dir + "/pam_otp.so";
  std::set<std::string> seen;  // real paths: /lib and /usr/lib are one directory on merged-/usr systems
  const auto check = [&](const std::string& module) {
    std::error_code ec;
    const auto real = std::filesystem::canonical(module, ec);
    if (seen.insert(ec ? module : real.string()).second) check_plugin_of(module, needs_directory, problems);
  };
  if (const auto line = find_pam_otp(sshd.pam_dir, "sshd", stand_in); line && !line->module.empty()) {
    const std::string module = line->module.front() == '/' ? line->module : dir + "/" + line->module;
    if (::access(module.c_str(), F_OK) == 0) {
      check(module);
    } else {
      seen.insert(module);
      problems.add(line->file, line->line, "",
                   "reaches " + module + ", which does not exist: every login through it fails");
    }
  }
  if (::access(installed.c_str(), F_OK) == 0) check(installed);
  else if (!stand_in.empty() && seen.count(installed) == 0)
    problems.add(installed, 0, "", "does not exist: with pam_otp in common-auth every login through it would fail");
}

}  // namespace

namespace {

// A limit per address without one per user from it lets one account behind
// a NAT or bastion spend the address's budget and lock everyone there out.
void check_send_limits(const config::Config& cfg, Problems& problems) {
  if (cfg.send_limit[config::SendScope::Rhost].on() && !cfg.send_limit[config::SendScope::UserRhost].on())
    warn_where(problems, cfg, "send_limit",
               "limits rhost but not user_rhost: one user behind a shared address (a NAT, a bastion) can spend its "
               "whole budget and lock everyone else there out (add user_rhost = \"5/1h\", the default)");
}

// What the configuration makes of sshd logins: is root asked for a code
// (in scope for the sshd service, with a users-file entry), and do rules
// decide by PAM_RHOST?
SshdUse sshd_use(const config::Loaded& loaded, flow::UserDirectory& directory) {
  const auto& cfg = loaded.config;
  SshdUse use;
  use.rhost_rules = cfg.remember > 0 || !cfg.exempt_networks.empty();
  const auto root = directory.find_user("root");
  use.root_asked = root && loaded.users.find(root->name) &&
                   flow::decide_scope(cfg, *root, directory, "sshd", "").in_scope;
  return use;
}

}  // namespace

void report_check(const Problems& problems, const std::vector<std::string>& module_args, const config::Loaded* loaded,
                  std::ostream& out) {
  std::size_t errors = 0, warnings = 0;
  for (const auto& p : problems.list()) {
    out << p.to_string() << "\n";
    (p.warning ? warnings : errors) += 1;
  }
  for (const auto& note : problems.notes()) out << "pam-otp check: " << note << "\n";
  const std::string path = loaded ? loaded->config.path
                                   : (!module_args.empty() && module_args[0].rfind("config=", 0) == 0
                                          ? module_args[0].substr(7) : config::default_config_path());
  out << "pam-otp check: " << path << ": ";
  if (errors == 0 && loaded != nullptr) {
    const auto& cfg = loaded->config;
    out << "OK (provider " << cfg.provider_name << (cfg.provider.preset.empty() ? "" : " (" + cfg.provider.preset + ")")
        << ", " << loaded->users.size() << " users listed" << (loaded->users.wildcard() ? " and '*'" : "") << ")";
  } else {
    out << errors << (errors == 1 ? " error" : " errors");
  }
  if (warnings > 0) out << ", " << warnings << (warnings == 1 ? " warning" : " warnings");
  out << "\n";
  if (errors > 0 && (mentions_try_out(problems) || (loaded != nullptr && uses_try_out(loaded->config))))
    explain_try_out(out);
}

std::unique_ptr<config::Loaded> check_configuration(const std::vector<std::string>& module_args, bool offline,
                                                    const SshdPaths& sshd, Problems& problems,
                                                    const std::string& sshd_stand_in) {
  auto loaded = config::load(module_args, problems);
  SshdUse use;
  if (loaded) {
    flow::SystemUserDirectory directory;
    use = sshd_use(*loaded, directory);
    check_groups(loaded->config, directory, problems);
    check_users(*loaded, directory, problems);
    check_literals(loaded->config, problems);
    if (uses_try_out(loaded->config))
      warn_where(problems, loaded->config, "ca_file",
                 "is the try-out provider's CA: logins need `pam-otp try-out` running; configure your provider "
                 "and remove ca_file before enabling pam_otp");
    check_state(loaded->config, problems);  // (with a shared store: the send limit's fallback)
    check_state_service(loaded->config, problems);
    check_shared_store(loaded->config, offline, problems);
    check_directory(loaded->config, offline, problems);
    check_send_limits(loaded->config, problems);
    if (!offline) check_reachable(loaded->config, problems);
  }
  check_sshd(sshd, problems, sshd_stand_in, use);
  check_plugins(sshd, sshd_stand_in, loaded && loaded->config.directory.has_value(), problems);
  return loaded;
}

int run_check(const std::vector<std::string>& arguments, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args = arguments;
  CommonOptions options;
  if (!take_common_options(args, options, err)) return kExitUsage;
  bool offline = false;
  SshdPaths sshd;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--offline") {
      offline = true;
    } else if ((a == "--sshd-config" || a == "--pam-dir") && i + 1 < args.size()) {
      std::string& field = a == "--sshd-config" ? sshd.sshd_config : sshd.pam_dir;
      field = args[++i];  // (chosen first: the right side of = is evaluated before the left)
    } else {
      err << "pam-otp check: unexpected argument '" << a << "'\n" << kUsage;
      return kExitUsage;
    }
  }
  if (options.help) {
    out << kUsage;
    return kExitOk;
  }
  Problems problems;
  const auto loaded = check_configuration(options.module_args, offline, sshd, problems);
  report_check(problems, options.module_args, loaded.get(), out);
  return problems.has_errors() ? kExitFailed : kExitOk;
}

}  // namespace otp::cli
