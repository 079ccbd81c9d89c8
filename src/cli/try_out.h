// The try-out provider: the bundled mock provider (otp-mock), installed with
// the package and started by `pam-otp try-out`, which serves the API that
// the shipped pam_otp.conf's [provider.mock] describes. The shipped config's
// ca_file names the CA it writes.
#pragma once

#include <string>

#include "base/problem.h"
#include "config/config.h"

namespace otp::cli {

std::string try_out_dir();     // /var/lib/pam_otp/try-out
std::string try_out_server();  // set by the build: LIBEXECDIR/pam-otp/otp-mock
std::string try_out_ca();      // try_out_dir()/ca.pem

// Is the configuration still the try-out one: its ca_file is the try-out CA
// (by path or content), or its provider the try-out's address and key?
bool uses_try_out(const config::Config& cfg);

// Problems whose text names the try-out directory: the administrator has
// not started `pam-otp try-out` (or has not configured a provider yet).
bool mentions_try_out(const Problems& problems);

// The note that says so.
void explain_try_out(std::ostream& out);

}  // namespace otp::cli
