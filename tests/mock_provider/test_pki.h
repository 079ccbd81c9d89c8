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
  // Same names, and names the trusted CA as its issuer (subject and key
  // identifier), but signed by another key: what anyone can make for a
  // well-known CA's name.
  std::string forged_cert, forged_key;
};

// Writes ca.pem/ca.key, server.*, expired.*, wronghost.*, untrusted.* and forged.* into
// dir (created if missing; keys mode 0600; never through a symbolic link).
// server_only: ca.pem and server.* alone, the CA's key never on disk (the
// try-out provider's). Throws std::runtime_error.
Pki make_pki(const std::string& dir, bool server_only = false);

}  // namespace otp::mock
