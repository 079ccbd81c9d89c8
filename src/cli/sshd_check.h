// pam-otp check's look at sshd: when sshd's PAM stack reaches pam_otp, the
// sshd settings that decide whether logins work and whether the code is
// really a second factor (sshd -T: the effective settings, after every
// drop-in).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/problem.h"

namespace otp::cli {

struct SshdPaths {
  std::string sshd = "/usr/sbin/sshd";
  std::string sshd_config = "/etc/ssh/sshd_config";
  std::string pam_dir = "/etc/pam.d";
  bool check_modules = true;  // pam_otp.so and its plugin (not under enable --root: that would run its code)
};

// Where the "sshd" PAM service reaches pam_otp.so, following @include,
// include and substack lines. With stand_in (a file name such as
// "common-auth"), an include of that file counts as a pam_otp line after the
// password: where the service will reach pam_otp once it is added there.
struct PamOtpLine {
  std::string file;
  int line = 0;
  std::string args;           // the module arguments, as written
  bool after_password = false;  // an auth module (or include) comes before it
  std::string module;           // as written: a path, or a name in libpam's directory (stand_in: pam_otp.so)
};
std::optional<PamOtpLine> find_pam_otp(const std::string& pam_dir, const std::string& service,
                                       const std::string& stand_in = "");

// What pam_otp's configuration makes of sshd logins, for the warnings that
// depend on it (all false without a configuration).
struct SshdUse {
  bool root_asked = false;   // root has a destination and is in scope for the sshd service
  bool rhost_rules = false;  // remember or exempt_networks decides by PAM_RHOST
};

// Adds warnings about sshd's settings to problems. Does nothing when sshd is
// not installed or its PAM stack does not reach pam_otp (stand_in: as above).
void check_sshd(const SshdPaths& paths, Problems& problems, const std::string& stand_in = "", const SshdUse& use = {});

// What the warnings are computed from: sshd -T's keywords (lower case) and
// values, and the pam_otp line. Separate for the unit test.
void check_sshd_settings(const std::map<std::string, std::string>& settings, const PamOtpLine& otp,
                         const std::string& config_path, Problems& problems, const SshdUse& use = {});

}  // namespace otp::cli
