// pam_otp.so: the PAM entry points. Everything else is in the core library;
// this file gathers PAM items, wires the real conversation, log, clock, user
// database and HTTP transport (the plugin beside this module), and maps the
// result to a PAM code.
#include <dlfcn.h>
#include <sys/auxv.h>
#include <unistd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>

#include <exception>
#include <vector>

#include "flow/login.h"
#include "http/plugin.h"
#include "directory/plugin.h"
#include "store/pg_plugin.h"
#include "pam/pam_adapters.h"

namespace otp::pam {
namespace {

// flow::AuthResult's values are libpam's codes (flow/result.h).
static_assert(static_cast<int>(flow::AuthResult::Success) == PAM_SUCCESS);
static_assert(static_cast<int>(flow::AuthResult::ServiceErr) == PAM_SERVICE_ERR);
static_assert(static_cast<int>(flow::AuthResult::AuthErr) == PAM_AUTH_ERR);
static_assert(static_cast<int>(flow::AuthResult::AuthInfoUnavail) == PAM_AUTHINFO_UNAVAIL);
static_assert(static_cast<int>(flow::AuthResult::UserUnknown) == PAM_USER_UNKNOWN);
static_assert(static_cast<int>(flow::AuthResult::MaxTries) == PAM_MAXTRIES);
static_assert(static_cast<int>(flow::AuthResult::ConvErr) == PAM_CONV_ERR);
static_assert(static_cast<int>(flow::AuthResult::Ignore) == PAM_IGNORE);

int to_pam(flow::AuthResult r) { return static_cast<int>(r); }

std::string string_item(pam_handle_t* pamh, int type) {
  const void* value = nullptr;
  if (pam_get_item(pamh, type, &value) != PAM_SUCCESS || value == nullptr) return {};
  return static_cast<const char*>(value);
}

// pam_otp/NAME in this module's own directory (http.so, state-helper):
// they are installed (and built) side by side.
std::string beside_module(const char* name) {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&to_pam), &info) == 0 || info.dli_fname == nullptr) return {};
  const std::string module(info.dli_fname);
  const auto slash = module.rfind('/');
  return slash == std::string::npos ? std::string() : module.substr(0, slash) + "/pam_otp/" + name;
}

std::string plugin_path() { return beside_module("http.so"); }

std::unique_ptr<http::Transport> plugin_transport(const http::TlsOptions& options) {
  return http::plugin_transport(plugin_path(), options);
}

bool has_conversation(pam_handle_t* pamh) {
  const void* item = nullptr;
  if (pam_get_item(pamh, PAM_CONV, &item) != PAM_SUCCESS || item == nullptr) return false;
  return static_cast<const pam_conv*>(item)->conv != nullptr;
}

int authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  PamLogger log(pamh);

  flow::LoginRequest request;
  const char* user = nullptr;
  if (pam_get_user(pamh, &user, nullptr) != PAM_SUCCESS || user == nullptr || *user == '\0') {
    log.log(flow::result_priority(flow::Result::UserUnknown),
            "result=" + std::string(flow::result_text(flow::Result::UserUnknown)) +
                " reason=\"cannot determine the user name\"");
    return PAM_USER_UNKNOWN;
  }
  request.user = user;
  request.service = string_item(pamh, PAM_SERVICE);
  request.rhost = string_item(pamh, PAM_RHOST);
  request.ruser = string_item(pamh, PAM_RUSER);
  request.real_uid = ::getuid();
  request.caller_can_signal = ::getuid() != 0 || ::getauxval(AT_SECURE) != 0;
  request.silent = (flags & PAM_SILENT) != 0;
  const void* authtok = nullptr;
  if (pam_get_item(pamh, PAM_AUTHTOK, &authtok) == PAM_SUCCESS && authtok != nullptr)
    request.authtok = Secret(static_cast<const char*>(authtok));
  if (const char* info = pam_getenv(pamh, "SSH_AUTH_INFO_0")) request.ssh_auth_info = info;

  PamConversation conversation(pamh);
  flow::SystemClock clock;
  flow::SystemUserDirectory users;
  flow::Services services{has_conversation(pamh) ? &conversation : nullptr, clock, log, users,
                          plugin_transport};
  // The state service when the machine runs one (docs/design.md, "The
  // state service"); else a caller who can stop this process must not hold
  // the state file's locks through it: the store is then a helper of its
  // own (docs/design.md, "The state helper").
  services.use_state_service = true;
  if (request.caller_can_signal) {
    services.open_store = flow::helper_store_opener(beside_module("state-helper"));
    services.counted_sends_only = true;
  }
  // The shared store runs in this process whoever the caller is: each of
  // its calls is one statement that the server runs and commits by itself,
  // so a stopped login holds no lock (docs/design.md, "The shared store").
  services.open_shared_store = [](const store::PgConnectOptions& options, std::chrono::milliseconds budget) {
    return store::plugin_pg_store(beside_module("pgstore.so"), options, budget);
  };
  // The directory's libraries (libldap, libphonenumber, ICU) load only
  // when a login asks it (docs/design.md, "Destinations from the directory").
  services.directory_lookup = [](const directory::LookupOptions& options, const std::string& name,
                                 directory::Clock::time_point deadline) {
    return directory::plugin_lookup(beside_module("directory.so"), options, name, deadline);
  };
  return to_pam(flow::run_login(args, request, services));
}

}  // namespace
}  // namespace otp::pam

extern "C" {

PAM_EXTERN __attribute__((visibility("default"))) int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc,
                                                                          const char** argv) {
  // No exception may cross into the C application (docs/design.md, "The
  // login flow": any internal error is PAM_SERVICE_ERR).
  try {
    return otp::pam::authenticate(pamh, flags, argc, argv);
  } catch (const std::exception& e) {
    pam_syslog(pamh, LOG_CRIT, "internal error: %s", e.what());
  } catch (...) {
    pam_syslog(pamh, LOG_CRIT, "internal error");
  }
  return PAM_SERVICE_ERR;
}

PAM_EXTERN __attribute__((visibility("default"))) int pam_sm_setcred(pam_handle_t* /*pamh*/, int /*flags*/,
                                                                     int /*argc*/, const char** /*argv*/) {
  return PAM_SUCCESS;
}

}  // extern "C"
