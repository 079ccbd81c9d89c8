// What the transport needs to reach a provider securely, once the
// configuration is loaded: the TLS files' contents (read once, with the
// config's file checks, so the file checked is the file used), the pin in
// libcurl's form, the proxy, and the limits of an answer.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/secret.h"

namespace otp::http {

struct TlsOptions {
  // As configured: paths (absolute) or, for the pin, "sha256//...".
  std::string ca_file;            // replaces the system CA store when set
  // A directory of CA certificates named by subject hash (openssl rehash),
  // which OpenSSL reads one certificate at a time, as a chain needs it;
  // replaces the system CA store when set.
  std::string ca_path;
  std::string pinned_public_key;
  std::string client_cert;
  std::string client_key;
  std::string proxy;              // the only proxy ever used; never from the environment
  // Loaded: the files' contents, and the pin as libcurl takes it.
  std::string ca_pem;
  std::string client_cert_pem;
  Secret client_key_pem;
  std::string pin;                // "sha256//<base64>[;sha256//...]"
  std::size_t max_body_bytes = 64 * 1024;
};

// libcurl's pin ("sha256//" + base64 of the SHA-256 of the DER
// SubjectPublicKeyInfo) of a public key given in PEM or DER; nullopt when the
// text holds no public key.
std::optional<std::string> spki_pin(std::string_view public_key);

}  // namespace otp::http
