// The keyed hashes the state keeps instead of what they stand for (a
// client's address, a remembered client): HMAC-SHA256 under the store's
// hash key, so that the file shows neither. docs/design.md, "Local state".
#pragma once

#include <string>
#include <string_view>

#include "base/secret.h"

namespace otp::store {

// 64 lower-case hex digits of HMAC-SHA256(key, purpose NUL text). Throws
// Error when it cannot be computed (never one hash for every text).
std::string keyed_hash(const Secret& key, std::string_view purpose, std::string_view text);

}  // namespace otp::store
