#include "store/recovery_codes.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace otp::store {
namespace {

constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz";  // 23 letters: no i, l, o
constexpr std::uint64_t kScryptN = 1 << 14, kScryptR = 8, kScryptP = 1;

std::string random_bytes(std::size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("no random bytes (OpenSSL RAND_bytes failed)");
  return bytes;
}

}  // namespace

std::optional<Secret> normalize_recovery_code(std::string_view typed) {
  Secret code;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (kAlphabet.find(lower) == std::string_view::npos || code.size() >= kRecoveryCodeLetters) return std::nullopt;
    code.mutable_value() += lower;
  }
  if (code.size() != kRecoveryCodeLetters) return std::nullopt;
  return code;
}

std::vector<Secret> make_recovery_codes(int n) {
  std::vector<Secret> codes;
  for (int i = 0; i < n; ++i) {
    Secret code;
    // Rejection sampling: bytes of 230 and up would favour the first letters.
    while (code.size() < kRecoveryCodeLetters + 2) {
      SecureString bytes(32, '\0');
      if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("no random bytes (OpenSSL RAND_bytes failed)");
      for (char b : bytes) {
        const auto v = static_cast<unsigned char>(b);
        if (v >= 230 || code.size() >= kRecoveryCodeLetters + 2) continue;
        if (code.size() == 4 || code.size() == 9) code.mutable_value() += '-';
        code.mutable_value() += kAlphabet[v % kAlphabet.size()];
      }
    }
    codes.push_back(std::move(code));
  }
  return codes;
}

std::string make_salt() { return random_bytes(16); }

std::string hash_recovery_code(const Secret& normalized, const std::string& salt) {
  std::string out(32, '\0');
  if (EVP_PBE_scrypt(normalized.c_str(), normalized.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                     salt.size(), kScryptN, kScryptR, kScryptP, 64u << 20, reinterpret_cast<unsigned char*>(out.data()),
                     out.size()) != 1)
    throw std::runtime_error("scrypt failed (out of memory?)");
  return out;
}

bool same_hash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace otp::store
