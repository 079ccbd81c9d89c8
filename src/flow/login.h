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
#include "flow/result.h"
#include "flow/user_directory.h"
#include "http/curl_transport.h"
#include "provider/variables.h"

namespace otp::flow {

struct LoginRequest {
  std::string user;
  std::string service;
  std::string rhost;
  std::optional<Secret> authtok;  // PAM_AUTHTOK left by an earlier module
  bool silent = false;            // PAM_SILENT
  std::optional<std::string> channel;  // forced (pam-otp test --channel)
};

using TransportFactory = std::function<std::unique_ptr<http::Transport>(const http::TlsOptions&)>;

struct Services {
  Conversation* conversation = nullptr;  // nullptr: the application gave none
  Clock& clock;
  Logger& log;
  UserDirectory& users;
  TransportFactory transports;
};

// SPEC §3 in full: load the configuration, then authenticate.
AuthResult run_login(const std::vector<std::string>& module_args, const LoginRequest& request, Services& services);

// Steps 2-13 with a configuration already loaded.
AuthResult authenticate(const config::Loaded& loaded, const LoginRequest& request, Services& services);

// The template variables of a login: built-ins, the users file's keys.
void set_login_variables(provider::Variables& vars, const config::Config& cfg, const config::UserEntry& entry,
                         const LoginRequest& request, const Destination& dest);

// Linux-PAM's marker in PAM_AUTHTOK for "an earlier module failed".
inline constexpr char kIncorrectMarker[] = "\b\n\r\177INCORRECT";

}  // namespace otp::flow
