// pam_otp/http.so: the libcurl transport behind one C entry point, loaded by
// pam_otp.so when a login must reach its provider (http/plugin.h).
#include "http/curl_transport.h"
#include "http/plugin.h"

extern "C" __attribute__((visibility("default"))) otp::http::Transport* pam_otp_http_transport(
    const otp::http::TlsOptions* options) noexcept __asm__(PAM_OTP_HTTP_PLUGIN_SYMBOL);

extern "C" otp::http::Transport* pam_otp_http_transport(const otp::http::TlsOptions* options) noexcept {
  try {
    return otp::http::make_curl_transport(*options).release();
  } catch (...) {  // out of memory: the module refuses the login
    return nullptr;
  }
}
