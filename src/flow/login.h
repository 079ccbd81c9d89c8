// One pam_authenticate call, from module arguments to a result, with the
// outside world (conversation, clock, users, HTTP) passed in. The PAM layer
// and `pam-otp test` both call run_login; tests call it with fakes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/logger.h"
#include "base/secret.h"
#include "config/loader.h"
#include "flow/clock.h"
#include "flow/conversation.h"
#include "flow/destinations.h"
#include "flow/local_state.h"
#include "flow/result.h"
#include "flow/sources.h"
#include "flow/user_directory.h"
#include "http/tls_options.h"
#include "http/transport.h"
#include "provider/variables.h"

namespace otp::flow {

struct LoginRequest {
  std::string user;     // as the application gave it; decisions use the passwd name
  std::string service;
  std::string rhost;
  std::optional<Secret> authtok;  // PAM_AUTHTOK left by an earlier module
  bool silent = false;            // PAM_SILENT
  std::optional<std::string> channel;  // forced (pam-otp test --channel)
  // sshd's SSH_AUTH_INFO_0 from the PAM environment: the methods that
  // succeeded before this stack ran; nullopt when it is not there.
  std::optional<std::string> ssh_auth_info;
  std::string ruser;  // PAM_RUSER: who asked (su's invoking user)
  // The real uid of the process (su's caller); nullopt when unknown. Caller
  // mode trusts PAM_RUSER only when it names this uid, or when it is root.
  std::optional<uid_t> real_uid;
  // Can whoever started this process signal it (SIGSTOP) or have lowered
  // its limits? True when its real uid is not root's or it runs setuid
  // (su, sudo): then a timeout or a local failure may be their doing, and
  // failmode = "safe" lets no login through on it (docs/design.md).
  bool caller_can_signal = false;
};

using TransportFactory = std::function<std::unique_ptr<http::Transport>(const http::TlsOptions&)>;

struct Services {
  Conversation* conversation = nullptr;  // nullptr: the application gave none
  Clock& clock;
  Logger& log;
  UserDirectory& users;
  TransportFactory transports;
  StoreOpener open_store = sqlite_store_opener();
  // The shared store (state_store); none: a config that names one logs that
  // this program cannot reach it, and goes on as when it is down.
  SharedStoreOpener open_shared_store = nullptr;
  // A send that cannot be counted is refused rather than sent uncounted
  // (LocalState): where the caller can stop the process or limit it.
  bool counted_sends_only = false;
  // Try the state service (config state_service) before open_store.
  bool use_state_service = false;
  bool remember_logins = true;  // false for pam-otp test: a test is no login to remember
  // Asks the directory ([directory]); none: a config that names one finds
  // it unavailable.
  DirectoryLookup directory_lookup = nullptr;
};

// The whole login (docs/design.md, "The login flow"): load the
// configuration, then authenticate.
AuthResult run_login(const std::vector<std::string>& module_args, const LoginRequest& request, Services& services);

// Steps 2-9 with a configuration already loaded.
AuthResult authenticate(const config::Loaded& loaded, const LoginRequest& request, Services& services);

// The template variables of a login: built-ins, the users file's keys.
void set_login_variables(provider::Variables& vars, const config::Config& cfg, const config::UserEntry& entry,
                         const LoginRequest& request, const Destination& dest);

// destination_user = "caller" applies to this login: a caller service, and
// PAM_RUSER set. The caller then owns the destination, the channel menu, the
// send limit and the recovery codes.
bool caller_owns_destination(const config::Config& cfg, const LoginRequest& request);

// Does PAM_AUTHTOK hold the marker OpenSSH (and Linux-PAM) put there for
// "the password failed": "\b\n\r\177INCORRECT" repeated and cut to the
// length of what the user typed? Any non-empty prefix of the repetition is.
bool is_incorrect_marker(std::string_view authtok);

// Did every method in `required` succeed before this PAM stack ran, as
// sshd's SSH_AUTH_INFO_0 lists them (one "method[/submethod] ..." per line)?
bool ssh_methods_done(const std::vector<std::string>& required, const std::optional<std::string>& auth_info);

}  // namespace otp::flow
