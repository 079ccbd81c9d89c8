// What the mock's test files share: the PKI made once per test run (by the
// global fixture in mock_provider_test.cc).
#pragma once

#include "test_pki.h"

namespace otp::mock::testing {

const Pki& shared_pki();

}  // namespace otp::mock::testing
