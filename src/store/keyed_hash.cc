#include "store/keyed_hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "store/store.h"

namespace otp::store {

std::string keyed_hash(const Secret& key, std::string_view purpose, std::string_view text) {
  Secret data(purpose);
  data.mutable_value().append(1, '\0').append(text);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (key.empty() ||
      HMAC(EVP_sha256(), key.reveal().data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.reveal().data()), data.size(), mac, &length) == nullptr ||
      length != 32)
    throw Error("HMAC-SHA256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += {kHex[mac[i] >> 4], kHex[mac[i] & 15]};
  return hex;
}

}  // namespace otp::store
