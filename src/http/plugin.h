// The HTTP plugin: libcurl, and through it TLS and its libraries, live in a
// library of their own (pam_otp/http.so beside pam_otp.so) that the module
// loads only when a login must reach its provider, so that a login pam_otp
// does not cover never pays for them (docs/design.md, "The HTTP plugin").
#pragma once

#include <memory>
#include <string>

#include "http/tls_options.h"
#include "http/transport.h"

// The one symbol the plugin exports. Its name carries the version and a hash
// of the headers the two share (src/CMakeLists.txt), so that a module never
// calls a plugin built from other sources (a package upgrade under a running
// sshd): dlsym fails instead, and the login is refused.
#define PAM_OTP_HTTP_PLUGIN_SYMBOL "pam_otp_http_transport_" PAM_OTP_VERSION "_" PAM_OTP_PLUGIN_ABI

namespace otp::http {

// The plugin's entry point: a new transport, owned by the caller; nullptr
// when it cannot be made.
using PluginEntry = Transport* (*)(const TlsOptions* options) noexcept;

// The transport of the plugin at `path` (loaded once per process and never
// unloaded). When it cannot be loaded, a transport that refuses every
// request and says why, so that the login fails closed with the reason in the log.
std::unique_ptr<Transport> plugin_transport(const std::string& path, const TlsOptions& options);

// What pam-otp check says of the plugin at `path`: whether it loads, whether
// it has the entry point `symbol` (the one the module beside it asks for,
// which may be another build's than this program's), and if not, why.
// Loads it afresh (not the login's cached one).
struct PluginCheck {
  bool loads = false;
  bool has_entry = false;
  std::string why;
};
PluginCheck check_plugin(const std::string& path, const std::string& symbol);

}  // namespace otp::http
