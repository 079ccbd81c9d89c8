// pam_bench_libs.so: the benchmark's floor for a login pam_otp does not
// cover. A PAM module that links the two libraries pam_otp needs to check
// its whole configuration (jsoncpp for the provider description, libcrypto
// for secrets, pins and keys), touches each once, and returns PAM_IGNORE.
// docs/design.md ("The login flow", step 1) says why a configuration is
// checked before scope: no module that keeps that rule can do a login it
// does not cover for less than this.
#include <json/json.h>
#include <openssl/crypto.h>
#include <security/pam_modules.h>

extern "C" {

PAM_EXTERN int pam_sm_authenticate(pam_handle_t*, int, int, const char**) {
  const Json::Value probe(static_cast<Json::UInt64>(OpenSSL_version_num()));
  return probe.asUInt64() != 0 ? PAM_IGNORE : PAM_SERVICE_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t*, int, int, const char**) { return PAM_SUCCESS; }

}  // extern "C"
