// The real transport: libcurl over TLS, configured for a PAM module that
// runs inside sshd, sudo and login. One instance holds one easy handle, so
// the send and verify exchanges of a login reuse one connection.
#pragma once

#include <memory>
#include <string>

#include "http/tls_options.h"
#include "http/transport.h"
#include "http/url_policy.h"

namespace otp::http {

std::unique_ptr<Transport> make_curl_transport(const TlsOptions& options);

// Whether libcurl reads the scheme and host of the URL as parse_url did. The
// policy was decided on parse_url's reading; the transport refuses a URL the
// two parsers read differently rather than send it where libcurl thinks it points.
bool libcurl_reads_as(const std::string& url, const UrlParts& parts);

}  // namespace otp::http
