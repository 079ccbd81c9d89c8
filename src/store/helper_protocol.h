// What the state helper and the module say to each other: one JSON document
// per line, a request ({"op": "take", ...}) and its answer ({"ok": true,
// "result": ...} or {"ok": false, "error": "..."}). Bytes (salts, hashes,
// the hash key) travel as base64. docs/design.md, "The state helper".
#pragma once

#include <json/value.h>

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace otp::store::protocol {

// The helper's side: runs one request on the store and returns the answer
// (an Error or a malformed request becomes {"ok": false, ...}).
Json::Value serve(Store& store, const Json::Value& request);

// The module's side: each Store call as a request, and its answer read
// back. The readers throw Error when the answer is not what the call gives.
Json::Value hash_key_request();
Json::Value set_recovery_codes_request(const std::string& user, const std::string& salt,
                                       const std::vector<std::string>& hashes, std::int64_t now);
Json::Value recovery_codes_request(const std::string& user);
Json::Value use_recovery_code_request(const std::string& user, std::int64_t id, const std::string& hash,
                                      std::int64_t now, const std::string& service);
Json::Value remember_request(const Remembered& login);
Json::Value is_remembered_request(const std::string& user, const std::string& key_hash, std::int64_t now,
                                  std::int64_t not_before);
Json::Value remembered_request(const std::string& user, std::int64_t now);
Json::Value take_request(const std::vector<Limit>& limits, std::int64_t now);
Json::Value count_request(const std::string& kind, const std::string& key, std::int64_t since);
Json::Value forget_request(const std::string& user);
Json::Value forget_rhost_request(const std::string& rhost_hash);

// The result of an answer, or Error with the helper's words.
const Json::Value& result_of(const Json::Value& answer);
Secret read_hash_key(const Json::Value& result);
std::optional<RecoveryBatch> read_recovery_batch(const Json::Value& result);
std::vector<Remembered> read_remembered(const Json::Value& result);
std::optional<LimitReached> read_limit_reached(const Json::Value& result);
bool read_bool(const Json::Value& result);
int read_int(const Json::Value& result);

}  // namespace otp::store::protocol
