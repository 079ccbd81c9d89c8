// The directory's plugin: libldap and libphonenumber (and with them TLS,
// SASL, ICU, protobuf and abseil) live in pam_otp/directory.so beside the
// module, loaded only when a login asks the directory, so that no other
// login pays for them (docs/design.md, "Destinations from the directory").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "directory/lookup.h"

// Its one exported symbol, named like the HTTP plugin's (http/plugin.h):
// the version and a hash of the headers the two sides share.
#define PAM_OTP_DIRECTORY_PLUGIN_SYMBOL "pam_otp_directory_" PAM_OTP_VERSION "_" PAM_OTP_PLUGIN_ABI

namespace otp::directory {

// The plugin's entry point: lookup() into *answer and true, or false with
// why and its kind (the directory is unavailable). Nothing crosses it by
// exception.
using PluginEntry = bool (*)(const LookupOptions* options, const std::string* user, std::int64_t deadline_ns,
                             Answer* answer, std::string* why, Failure* failure) noexcept;

// lookup() through the plugin at `path` (loaded at the first call, once per
// process, never unloaded). Throws Unavailable, also when the plugin
// cannot be loaded: the directory is then unavailable for the login.
Answer plugin_lookup(const std::string& path, const LookupOptions& options, const std::string& user,
                     Clock::time_point deadline);

// For pam-otp check: why the plugin at `path` cannot serve a module that
// asks for `symbol`, or nullopt. Loads it afresh.
std::optional<std::string> plugin_problem(const std::string& path, const std::string& symbol);

}  // namespace otp::directory
