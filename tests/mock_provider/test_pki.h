// Certificates made at test time, so that no key material is ever checked in
// and no certificate in the tree can expire under us.
#pragma once

#include <string>

namespace otp::mock {

// Paths of the PEM files make_pki() wrote.
struct Pki {
  std::string dir;
  std::string ca_cert, ca_key;                  // the CA clients trust
  std::string server_cert, server_key;          // valid for 127.0.0.1, ::1, localhost
  std::string expired_cert, expired_key;        // same names, validity ended yesterday
  std::string wrong_host_cert, wrong_host_key;  // valid, but only for wrong.example
  std::string untrusted_cert, untrusted_key;    // same names, signed by a CA nobody trusts
};

// Writes ca.pem/ca.key, server.*, expired.*, wronghost.* and untrusted.* into
// dir (created if missing; keys mode 0600; never through a symbolic link).
// server_only: ca.pem and server.* alone, the CA's key never on disk (the
// try-out provider's). Throws std::runtime_error.
Pki make_pki(const std::string& dir, bool server_only = false);

}  // namespace otp::mock
