// A stand-in HTTP plugin with this build's entry point that needs a symbol
// no library defines: the module must refuse to use it at load
// (hardening_integration_test.cc), and pam-otp check must say so
// (cli_integration_test.cc).
#include "http/plugin.h"

extern "C" void pam_otp_test_symbol_nobody_defines();

extern "C" __attribute__((visibility("default"))) otp::http::Transport* pam_otp_http_transport(
    const otp::http::TlsOptions* options) noexcept __asm__(PAM_OTP_HTTP_PLUGIN_SYMBOL);

extern "C" otp::http::Transport* pam_otp_http_transport(const otp::http::TlsOptions* /*options*/) noexcept {
  pam_otp_test_symbol_nobody_defines();
  return nullptr;
}
