// The real transport: libcurl over TLS, configured for a PAM module that
// runs inside sshd, sudo and login. One instance holds one easy handle, so
// the send and verify exchanges of a login reuse one connection.
#pragma once

#include <memory>
#include <string>

#include "http/transport.h"

namespace otp::http {

struct TlsOptions {
  std::string ca_file;            // replaces the system CA store when set
  std::string pinned_public_key;  // libcurl's "sha256//..." form
  std::string client_cert;
  std::string client_key;
  std::string proxy;              // the only proxy ever used; never from the environment
  std::size_t max_body_bytes = 64 * 1024;
};

std::unique_ptr<Transport> make_curl_transport(const TlsOptions& options);

}  // namespace otp::http
