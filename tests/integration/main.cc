// The integration tests' entry point: real libpam through pam_wrapper, users
// from nss_wrapper (set up before the first user lookup of the process).
#define BOOST_TEST_MODULE pam_otp integration tests
#include <boost/test/unit_test.hpp>

#include "pam_harness.h"

using otp::testing::NssWrapperFiles;  // the macro builds a name from its argument
BOOST_TEST_GLOBAL_FIXTURE(NssWrapperFiles);
