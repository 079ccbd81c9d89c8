// pam_otp/pgstore.so: the shared store over libpq behind one C entry point,
// loaded by pam_otp.so when a login first calls it (store/pg_plugin.h).
#include "store/pg_plugin.h"
#include "store/pg_store.h"

extern "C" __attribute__((visibility("default"))) otp::store::Store* pam_otp_pg_store(
    const otp::store::PgConnectOptions* options, long long budget_ms) noexcept __asm__(PAM_OTP_PG_PLUGIN_SYMBOL);

extern "C" otp::store::Store* pam_otp_pg_store(const otp::store::PgConnectOptions* options, long long budget_ms) noexcept {
  try {
    return otp::store::open_pg_store(*options, std::chrono::milliseconds(budget_ms)).release();
  } catch (...) {  // out of memory: the store is unusable for the login
    return nullptr;
  }
}
