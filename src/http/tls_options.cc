#include "http/tls_options.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <memory>

#include "base/base64.h"

namespace otp::http {

std::optional<std::string> spki_pin(std::string_view public_key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(public_key.data(), static_cast<int>(public_key.size())),
                                                BIO_free);
  if (!bio) return std::nullopt;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
                                                          EVP_PKEY_free);
  if (!key) {
    const auto* der = reinterpret_cast<const unsigned char*>(public_key.data());
    key.reset(d2i_PUBKEY(nullptr, &der, static_cast<long>(public_key.size())));
  }
  if (!key) return std::nullopt;
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key.get(), &der);
  if (length <= 0) return std::nullopt;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<std::size_t>(length), digest);
  OPENSSL_free(der);
  return "sha256//" + base64_encode(std::string(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace otp::http
