// The shared store's plugin: libpq (and through it TLS, Kerberos and LDAP)
// lives in pam_otp/pgstore.so beside the module, loaded only when a login
// first calls the shared store, so that a login that never reaches it does
// not pay for libpq (docs/design.md, "The shared store").
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "store/pg_connection.h"
#include "store/store.h"

// Its one exported symbol, named like the HTTP plugin's (http/plugin.h):
// the version and a hash of the headers the two sides share.
#define PAM_OTP_PG_PLUGIN_SYMBOL "pam_otp_pg_store_" PAM_OTP_VERSION "_" PAM_OTP_PLUGIN_ABI

namespace otp::store {

// The plugin's entry point: a new store, owned by the caller (it connects
// at its first call); nullptr when it cannot be made.
using PgPluginEntry = Store* (*)(const PgConnectOptions* options, long long budget_ms) noexcept;

// The shared store through the plugin at `path` (loaded at the first call,
// once per process, never unloaded). When it cannot be loaded, every call
// throws Error saying why: the store is then unusable for the login, as
// when the database is down.
std::unique_ptr<Store> plugin_pg_store(std::string path, PgConnectOptions options, std::chrono::milliseconds budget);

// For pam-otp check: why the plugin at `path` cannot serve a module that
// asks for `symbol`, or nullopt. Loads it afresh.
std::optional<std::string> pg_plugin_problem(const std::string& path, const std::string& symbol);

}  // namespace otp::store
