// The try-out provider: the bundled mock provider (otp-mock), installed with
// the package and started by `pam-otp try-out`, which serves the API that
// the shipped pam_otp.conf's [provider.mock] describes. The shipped config's
// ca_file names the CA it writes.
#pragma once

#include <string>

#include "base/problem.h"
#include "config/config.h"

namespace otp::cli {

// Set by the build (PAM_OTP_TRYOUT_DIR, PAM_OTP_TRYOUT_SERVER).
std::string try_out_dir();
std::string try_out_server();
std::string try_out_ca();  // try_out_dir()/ca.pem

// Is the configuration still the try-out one (its ca_file is the try-out CA)?
bool uses_try_out(const config::Config& cfg);

// Problems whose text names the try-out directory: the administrator has
// not started `pam-otp try-out` (or has not configured a provider yet).
bool mentions_try_out(const Problems& problems);

}  // namespace otp::cli
