// Recovery codes: what they look like, how they are made, and the slow
// salted hash the store keeps instead of them. docs/design.md, "Local state".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secret.h"

namespace otp::store {

// 12 letters from an alphabet without i, l and o (54 bits), shown as
// "abcd-efgh-jkmn". Letters only, so no numeric one-time code is ever
// mistaken for one.
inline constexpr std::size_t kRecoveryCodeLetters = 12;

// The code typed, normalized (lower case, without the dashes and spaces a
// user may add or leave out); nullopt when it is not shaped like one.
std::optional<Secret> normalize_recovery_code(std::string_view typed);

// n new codes, each as it is shown ("abcd-efgh-jkmn").
std::vector<Secret> make_recovery_codes(int n);

// 16 random bytes: the salt one user's batch of codes shares.
std::string make_salt();

// scrypt(code, salt) with N = 2^14, r = 8, p = 1 (16 MiB, tens of ms): 32
// bytes. One hash per typed code, compared with each stored one.
std::string hash_recovery_code(const Secret& normalized, const std::string& salt);

// Constant-time comparison of two hashes.
bool same_hash(const std::string& a, const std::string& b);

}  // namespace otp::store
