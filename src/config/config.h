// The effective configuration of one module call: defaults, then the config
// file, then the secrets file, then module arguments.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "http/tls_options.h"
#include "provider/spec.h"

namespace otp::config {

enum class FailMode { Secure, Safe };
enum class Unenrolled { Deny, Allow };

struct Config {
  std::string path;  // the config file
  bool debug = false;
  FailMode failmode = FailMode::Secure;
  int attempts = 3;
  int resends = 1;
  int resend_cooldown = 30;  // seconds
  std::string code_pattern = "^[0-9]{4,10}$";
  bool echo_code = false;
  std::string channel = "sms";  // sms, email, whatsapp, voice, ask
  Unenrolled unenrolled = Unenrolled::Deny;
  std::string users_file = "/etc/security/pam_otp.users";
  std::vector<std::string> require_groups;
  std::vector<std::string> exempt_groups;
  std::vector<std::string> exempt_networks;
  std::vector<std::string> exempt_services;
  // SSH methods that must have succeeded before this stack (SSH_AUTH_INFO_0).
  std::vector<std::string> require_ssh_methods;
  int timeout = 10;          // seconds, one HTTP exchange
  int connect_timeout = 3;   // seconds
  int deadline = 120;        // seconds of provider time per login
  http::TlsOptions tls;  // the TLS keys, and the files they name, loaded
  std::string secrets_file;
  std::string secrets_group;
  std::map<std::string, std::string, std::less<>> messages;  // every key present (defaults filled in)
  std::string provider_name;
  provider::ProviderSpec provider;
  // Where each top-level key that was set came from: file (or module
  // argument) and line, for problems found after loading (pam-otp check).
  std::map<std::string, std::pair<std::string, int>, std::less<>> origin;
};

}  // namespace otp::config
