// The HTTP plugin: libcurl, and through it TLS and its libraries, live in a
// library of their own (pam_otp/http.so beside pam_otp.so) that the module
// loads only when a login must reach its provider, so that a login pam_otp
// does not cover never pays for them (docs/design.md, "The HTTP plugin").
#pragma once

#include <memory>
#include <optional>
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

// For pam-otp check: why the plugin at `path` cannot serve a module that asks
// for the entry point `symbol` (which may be another build's than this
// program's), or nullopt when it can. Loads it afresh, not the cached one.
std::optional<std::string> plugin_problem(const std::string& path, const std::string& symbol);

}  // namespace otp::http
