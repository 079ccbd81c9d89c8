#include "time_bound.h"

#include <cstdlib>
#include <string>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PAM_OTP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define PAM_OTP_SANITIZED 1
#endif
#endif

namespace otp::testing {
namespace {

// On a busy 2-core machine, calls bounded by timeout + 1 s overran that by
// up to 0.8 s under valgrind; these factors leave room several times over.
constexpr double kValgrind = 8;
constexpr double kSanitizer = 3;

}  // namespace

double slowdown() {
  if (const char* env = std::getenv("PAM_OTP_TEST_SLOWDOWN")) {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end != env && v >= 1) return v;
  }
  if (RUNNING_ON_VALGRIND) return kValgrind;
#ifdef PAM_OTP_SANITIZED
  return kSanitizer;
#else
  return 1;
#endif
}

int short_timeout() { return slowdown() > 1 ? 10 : 2; }
bool sanitized_build() {
#ifdef PAM_OTP_SANITIZED
  return true;
#else
  return false;
#endif
}

int short_connect_timeout() { return slowdown() > 1 ? short_timeout() : short_timeout() / 2; }

std::chrono::milliseconds within(std::chrono::milliseconds limit) {
  return limit + std::chrono::milliseconds(static_cast<long>(1000 * slowdown()));
}

}  // namespace otp::testing
