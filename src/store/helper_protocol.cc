#include "store/helper_protocol.h"

#include <limits>

#include "base/base64.h"

namespace otp::store::protocol {
namespace {

Json::Value request(const char* op) {
  Json::Value r(Json::objectValue);
  r["op"] = op;
  return r;
}

Json::Value int64(std::int64_t n) { return Json::Value(static_cast<Json::Int64>(n)); }

// A malformed request or answer: what the other side sent is not what this
// side expects (never the helper's store failing, which says so itself).
[[noreturn]] void malformed(const std::string& what) { throw Error("state helper: malformed " + what); }

const Json::Value& member(const Json::Value& v, const char* name) {
  if (!v.isObject() || !v.isMember(name)) malformed(std::string("message (no '") + name + "')");
  return v[name];
}

std::string text(const Json::Value& v, const char* name) {
  const Json::Value& m = member(v, name);
  if (!m.isString()) malformed(std::string("'") + name + "'");
  return m.asString();
}

std::string bytes(const Json::Value& v, const char* name) {
  auto decoded = base64_decode(text(v, name));
  if (!decoded) malformed(std::string("'") + name + "' (not base64)");
  return std::move(*decoded);
}

std::int64_t integer(const Json::Value& v, const char* name) {
  const Json::Value& m = member(v, name);
  if (!m.isInt64()) malformed(std::string("'") + name + "'");
  return m.asInt64();
}

int small(const Json::Value& v, const char* name) {
  const std::int64_t n = integer(v, name);
  if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) malformed(std::string("'") + name + "'");
  return static_cast<int>(n);
}

std::vector<Limit> limits_of(const Json::Value& v) {
  const Json::Value& list = member(v, "limits");
  if (!list.isArray()) malformed("'limits'");
  std::vector<Limit> limits;
  for (const auto& l : list) limits.push_back({text(l, "kind"), text(l, "key"), small(l, "max"), integer(l, "window")});
  return limits;
}

Json::Value ok(Json::Value result) {
  Json::Value answer(Json::objectValue);
  answer["ok"] = true;
  answer["result"] = std::move(result);
  return answer;
}

Json::Value batch_json(const std::optional<RecoveryBatch>& batch) {
  if (!batch) return Json::Value(Json::nullValue);
  Json::Value v(Json::objectValue);
  v["salt"] = base64_encode(batch->salt);
  v["issued_at"] = int64(batch->issued_at);
  v["codes"] = Json::Value(Json::arrayValue);
  for (const auto& c : batch->codes) {
    Json::Value code(Json::objectValue);
    code["id"] = int64(c.id);
    code["hash"] = base64_encode(c.hash);
    code["used_at"] = c.used_at ? int64(*c.used_at) : Json::Value(Json::nullValue);
    code["used_by"] = c.used_by;
    v["codes"].append(std::move(code));
  }
  return v;
}

Json::Value remembered_json(const Remembered& r) {
  Json::Value v(Json::objectValue);
  v["user"] = r.user;
  v["key_hash"] = r.key_hash;
  v["service"] = r.service;
  v["created_at"] = int64(r.created_at);
  v["expires_at"] = int64(r.expires_at);
  return v;
}

Remembered remembered_of(const Json::Value& v) {
  return {text(v, "user"), text(v, "key_hash"), text(v, "service"), integer(v, "created_at"), integer(v, "expires_at")};
}

// One request run on the store; its result.
Json::Value run(Store& store, const Json::Value& r) {
  const std::string op = text(r, "op");
  if (op == "hash_key") {
    const Secret key = store.hash_key();
    return Json::Value(base64_encode(key.reveal()));  // (the caller wipes the answer)
  }
  if (op == "set_recovery_codes") {
    std::vector<std::string> hashes;
    const Json::Value& list = member(r, "hashes");
    if (!list.isArray()) malformed("'hashes'");
    for (Json::ArrayIndex i = 0; i < list.size(); ++i) {
      auto hash = list[i].isString() ? base64_decode(list[i].asString()) : std::nullopt;
      if (!hash) malformed("'hashes'");
      hashes.push_back(std::move(*hash));
    }
    store.set_recovery_codes(text(r, "user"), bytes(r, "salt"), hashes, integer(r, "now"));
    return Json::Value(Json::nullValue);
  }
  if (op == "recovery_codes") return batch_json(store.recovery_codes(text(r, "user")));
  if (op == "use_recovery_code")
    return store.use_recovery_code(text(r, "user"), integer(r, "id"), bytes(r, "hash"), integer(r, "now"),
                                   text(r, "service"));
  if (op == "remember") {
    store.remember(remembered_of(member(r, "login")));
    return Json::Value(Json::nullValue);
  }
  if (op == "is_remembered")
    return store.is_remembered(text(r, "user"), text(r, "key_hash"), integer(r, "now"), integer(r, "not_before"));
  if (op == "remembered") {
    Json::Value list(Json::arrayValue);
    for (const auto& entry : store.remembered(text(r, "user"), integer(r, "now"))) list.append(remembered_json(entry));
    return list;
  }
  if (op == "take") {
    const auto reached = store.take(limits_of(r), integer(r, "now"));
    if (!reached) return Json::Value(Json::nullValue);
    Json::Value v(Json::objectValue);
    v["index"] = static_cast<Json::UInt64>(reached->index);
    v["retry_after"] = int64(reached->retry_after);
    return v;
  }
  if (op == "count") return store.count(text(r, "kind"), text(r, "key"), integer(r, "since"));
  if (op == "forget") {
    store.forget(text(r, "user"));
    return Json::Value(Json::nullValue);
  }
  if (op == "forget_rhost") {
    store.forget_rhost(text(r, "rhost_hash"));
    return Json::Value(Json::nullValue);
  }
  malformed("request (unknown op '" + op + "')");
}

}  // namespace

Json::Value serve(Store& store, const Json::Value& request) {
  try {
    return ok(run(store, request));
  } catch (const std::exception& e) {
    Json::Value answer(Json::objectValue);
    answer["ok"] = false;
    answer["error"] = e.what();
    return answer;
  }
}

Json::Value hash_key_request() { return request("hash_key"); }

Json::Value set_recovery_codes_request(const std::string& user, const std::string& salt,
                                       const std::vector<std::string>& hashes, std::int64_t now) {
  Json::Value r = request("set_recovery_codes");
  r["user"] = user;
  r["salt"] = base64_encode(salt);
  r["hashes"] = Json::Value(Json::arrayValue);
  for (const auto& h : hashes) r["hashes"].append(base64_encode(h));
  r["now"] = int64(now);
  return r;
}

Json::Value recovery_codes_request(const std::string& user) {
  Json::Value r = request("recovery_codes");
  r["user"] = user;
  return r;
}

Json::Value use_recovery_code_request(const std::string& user, std::int64_t id, const std::string& hash,
                                      std::int64_t now, const std::string& service) {
  Json::Value r = request("use_recovery_code");
  r["user"] = user;
  r["id"] = int64(id);
  r["hash"] = base64_encode(hash);
  r["now"] = int64(now);
  r["service"] = service;
  return r;
}

Json::Value remember_request(const Remembered& login) {
  Json::Value r = request("remember");
  r["login"] = remembered_json(login);
  return r;
}

Json::Value is_remembered_request(const std::string& user, const std::string& key_hash, std::int64_t now,
                                  std::int64_t not_before) {
  Json::Value r = request("is_remembered");
  r["user"] = user;
  r["key_hash"] = key_hash;
  r["now"] = int64(now);
  r["not_before"] = int64(not_before);
  return r;
}

Json::Value remembered_request(const std::string& user, std::int64_t now) {
  Json::Value r = request("remembered");
  r["user"] = user;
  r["now"] = int64(now);
  return r;
}

Json::Value take_request(const std::vector<Limit>& limits, std::int64_t now) {
  Json::Value r = request("take");
  r["limits"] = Json::Value(Json::arrayValue);
  for (const auto& l : limits) {
    Json::Value v(Json::objectValue);
    v["kind"] = l.kind;
    v["key"] = l.key;
    v["max"] = l.max;
    v["window"] = int64(l.window);
    r["limits"].append(std::move(v));
  }
  r["now"] = int64(now);
  return r;
}

Json::Value count_request(const std::string& kind, const std::string& key, std::int64_t since) {
  Json::Value r = request("count");
  r["kind"] = kind;
  r["key"] = key;
  r["since"] = int64(since);
  return r;
}

Json::Value forget_request(const std::string& user) {
  Json::Value r = request("forget");
  r["user"] = user;
  return r;
}

Json::Value forget_rhost_request(const std::string& rhost_hash) {
  Json::Value r = request("forget_rhost");
  r["rhost_hash"] = rhost_hash;
  return r;
}

const Json::Value& result_of(const Json::Value& answer) {
  const Json::Value& ok = member(answer, "ok");
  if (!ok.isBool()) malformed("answer");
  if (!ok.asBool()) throw Error(text(answer, "error"));
  return member(answer, "result");
}

Secret read_hash_key(const Json::Value& result) {
  if (!result.isString()) malformed("hash key");
  auto key = base64_decode(result.asString());
  if (!key) malformed("hash key");
  Secret secret(*key);
  wipe(*key);
  return secret;
}

std::optional<RecoveryBatch> read_recovery_batch(const Json::Value& result) {
  if (result.isNull()) return std::nullopt;
  RecoveryBatch batch{bytes(result, "salt"), integer(result, "issued_at"), {}};
  const Json::Value& codes = member(result, "codes");
  if (!codes.isArray()) malformed("'codes'");
  for (const auto& c : codes) {
    RecoveryCode code{integer(c, "id"), bytes(c, "hash"), std::nullopt, text(c, "used_by")};
    if (!member(c, "used_at").isNull()) code.used_at = integer(c, "used_at");
    batch.codes.push_back(std::move(code));
  }
  return batch;
}

std::vector<Remembered> read_remembered(const Json::Value& result) {
  if (!result.isArray()) malformed("remembered logins");
  std::vector<Remembered> list;
  for (const auto& r : result) list.push_back(remembered_of(r));
  return list;
}

std::optional<LimitReached> read_limit_reached(const Json::Value& result) {
  if (result.isNull()) return std::nullopt;
  const std::int64_t index = integer(result, "index");
  if (index < 0) malformed("'index'");
  return LimitReached{static_cast<std::size_t>(index), integer(result, "retry_after")};
}

bool read_bool(const Json::Value& result) {
  if (!result.isBool()) malformed("answer (not a boolean)");
  return result.asBool();
}

int read_int(const Json::Value& result) {
  if (!result.isInt()) malformed("answer (not a number)");
  return result.asInt();
}

}  // namespace otp::store::protocol
