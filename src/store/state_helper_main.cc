// pam_otp/state-helper: the state store for logins whose caller could stop
// them (store/helper_store.h). pam_otp.so starts it; it is no command.
#include "store/helper_store.h"

int main(int argc, char** argv) { return otp::store::run_state_helper(argc, argv); }
