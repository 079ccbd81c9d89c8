// A stand-in HTTP plugin with this build's entry point that needs a symbol
// no library defines. It is linked with -z now like the real plugin, so the
// module's dlopen must fail on it even though it asks for lazy binding
// (http/plugin.cc), instead of the login dying at the first call.
#include "http/plugin.h"

extern "C" void pam_otp_test_symbol_nobody_defines();

extern "C" __attribute__((visibility("default"))) otp::http::Transport* pam_otp_http_transport(
    const otp::http::TlsOptions* options) noexcept __asm__(PAM_OTP_HTTP_PLUGIN_SYMBOL);

extern "C" otp::http::Transport* pam_otp_http_transport(const otp::http::TlsOptions* /*options*/) noexcept {
  pam_otp_test_symbol_nobody_defines();
  return nullptr;
}
