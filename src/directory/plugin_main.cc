// pam_otp/directory.so: the directory lookup over libldap and
// libphonenumber behind one C entry point, loaded by pam_otp.so when a
// login first asks the directory (directory/plugin.h).
#include "directory/plugin.h"

extern "C" __attribute__((visibility("default"))) bool pam_otp_directory(
    const otp::directory::LookupOptions* options, const std::string* user, std::int64_t deadline_ns,
    otp::directory::Answer* answer, std::string* why, otp::directory::Failure* failure) noexcept __asm__(PAM_OTP_DIRECTORY_PLUGIN_SYMBOL);

namespace {

bool failed(const char* what, otp::directory::Failure kind, std::string* why, otp::directory::Failure* failure) noexcept {
  *failure = kind;
  try {
    *why = what;
  } catch (...) {
  }
  return false;
}

}  // namespace

extern "C" bool pam_otp_directory(const otp::directory::LookupOptions* options, const std::string* user,
                                  std::int64_t deadline_ns, otp::directory::Answer* answer, std::string* why,
                                  otp::directory::Failure* failure) noexcept {
  using otp::directory::Failure;
  try {
    const otp::directory::Clock::time_point deadline{std::chrono::nanoseconds(deadline_ns)};
    *answer = otp::directory::lookup(*options, *user, deadline);
    return true;
  } catch (const otp::directory::Unavailable& e) {
    return failed(e.what(), e.failure(), why, failure);
  } catch (const std::exception& e) {
    return failed(e.what(), Failure::Local, why, failure);  // (no memory, most likely)
  } catch (...) {
    return failed("an unknown error in the directory's plugin", Failure::Local, why, failure);
  }
}
