#include "base/secret.h"

#include <openssl/crypto.h>

namespace otp {

void wipe_bytes(void* p, std::size_t n) noexcept {
  if (p != nullptr && n > 0) OPENSSL_cleanse(p, n);
}

namespace {

template <class String>
void wipe_string(String& s) noexcept {
  // Wipe the whole buffer, not only size(): earlier, longer contents may remain.
  s.resize(s.capacity());
  wipe_bytes(s.data(), s.size());
  s.clear();
}

}  // namespace

void wipe(std::string& s) noexcept { wipe_string(s); }
void wipe(SecureString& s) noexcept { wipe_string(s); }

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
