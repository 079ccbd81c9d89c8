// The single entry point of the unit tests (the suites live beside the code).
#define BOOST_TEST_MODULE pam_otp unit tests
#include <boost/test/unit_test.hpp>
