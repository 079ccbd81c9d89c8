// Tests that bound a call's time (a hang must not hold a login) allow the
// module's own bound plus slack for the work around it: loading the module,
// reading the config, the TLS handshake. Valgrind and the sanitizers make that
// work many times slower, so the slack scales with the build, from here only.
#pragma once

#include <chrono>

namespace otp::testing {

// 1 in a normal build, more under valgrind or a sanitizer. The environment
// variable PAM_OTP_TEST_SLOWDOWN (a number >= 1) overrides it.
double slowdown();

// The longest a call whose own bound is `limit` may take: limit plus one
// second of slack, times slowdown().
std::chrono::milliseconds within(std::chrono::milliseconds limit);

// A provider timeout (seconds) for tests that need one good exchange and one
// that times out: 2 in a normal build; 10 where slowdown() > 1, since the
// first TLS handshake of a process under valgrind took 3.3 s on a busy
// 2-core machine.
int short_timeout();
// The connect timeout that goes with it: half of it in a normal build, all
// of it in a slow one (where the handshake is the slow part).
int short_connect_timeout();

// Is this program (and so every program of the same build) built with a
// sanitizer, whose runtime opens files of its own when it must?
bool sanitized_build();

}  // namespace otp::testing
