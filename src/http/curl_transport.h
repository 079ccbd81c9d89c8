// The real transport: libcurl over TLS, configured for a PAM module that
// runs inside sshd, sudo and login. One instance holds one easy handle, so
// the send and verify exchanges of a login reuse one connection.
#pragma once

#include <memory>
#include <string>

#include "http/tls_options.h"
#include "http/transport.h"

namespace otp::http {

std::unique_ptr<Transport> make_curl_transport(const TlsOptions& options);

}  // namespace otp::http
