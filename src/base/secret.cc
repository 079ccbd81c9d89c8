#include "base/secret.h"

#include <openssl/crypto.h>

namespace otp {

void wipe_bytes(void* p, std::size_t n) noexcept {
  if (p != nullptr && n > 0) OPENSSL_cleanse(p, n);
}

void wipe(std::string& s) noexcept {
  // Wipe the whole buffer, not only size(): earlier, longer contents may remain.
  s.resize(s.capacity());
  wipe_bytes(s.data(), s.size());
  s.clear();
}

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    wipe(value_);
    value_ = other.value_;
  }
  return *this;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe(value_);
    value_ = std::move(other.value_);
    wipe(other.value_);
  }
  return *this;
}

}  // namespace otp
