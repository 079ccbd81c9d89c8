// pam_otp/directory.so: the directory lookup over libldap and
// libphonenumber behind one C entry point, loaded by pam_otp.so when a
// login first asks the directory (directory/plugin.h).
#include "directory/plugin.h"

extern "C" __attribute__((visibility("default"))) bool pam_otp_directory(
    const otp::directory::LookupOptions* options, const std::string* user, std::int64_t deadline_ns,
    otp::directory::Answer* answer, std::string* why) noexcept __asm__(PAM_OTP_DIRECTORY_PLUGIN_SYMBOL);

extern "C" bool pam_otp_directory(const otp::directory::LookupOptions* options, const std::string* user,
                                  std::int64_t deadline_ns, otp::directory::Answer* answer, std::string* why) noexcept {
  try {
    const otp::directory::Clock::time_point deadline{std::chrono::nanoseconds(deadline_ns)};
    *answer = otp::directory::lookup(*options, *user, deadline);
    return true;
  } catch (const std::exception& e) {
    try {
      *why = e.what();
    } catch (...) {
    }
    return false;
  } catch (...) {
    return false;
  }
}
