// pam_otp/state-helper: the state store out of the login's process. Run by
// pam_otp.so, one per login whose caller could stop it
// (store/helper_store.h); or, with --serve, the state service, one per
// machine (store/state_service.h).
#include <cstring>

#include "store/helper_store.h"
#include "store/state_service.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--serve") == 0) return otp::store::run_state_service(argc, argv);
  return otp::store::run_state_helper(argc, argv);
}
