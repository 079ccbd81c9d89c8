#include "mock_json.h"

#include <climits>
#include <memory>
#include <stdexcept>

namespace otp::mock {
namespace {

[[noreturn]] void bad(const std::string& field) {
  throw std::invalid_argument(field);
}

void read_size(const Json::Value& obj, const char* name, std::size_t& out) {
  if (!obj.isMember(name)) return;
  const Json::Value& v = obj[name];
  if (!v.isUInt64()) bad(name);
  out = static_cast<std::size_t>(v.asUInt64());
}

}  // namespace

void read_int(const Json::Value& obj, const char* name, int& out, int min, int max) {
  if (!obj.isMember(name)) return;
  const Json::Value& v = obj[name];
  if (!v.isInt() || v.asInt() < min || v.asInt() > max) bad(name);
  out = v.asInt();
}

void read_bool(const Json::Value& obj, const char* name, bool& out) {
  if (!obj.isMember(name)) return;
  if (!obj[name].isBool()) bad(name);
  out = obj[name].asBool();
}

void read_string(const Json::Value& obj, const char* name, std::string& out) {
  if (!obj.isMember(name)) return;
  if (!obj[name].isString()) bad(name);
  out = obj[name].asString();
}

void read_string_list(const Json::Value& obj, const char* name, std::vector<std::string>& out) {
  if (!obj.isMember(name)) return;
  const Json::Value& v = obj[name];
  if (!v.isArray()) bad(name);
  std::vector<std::string> list;
  for (const Json::Value& item : v) {
    if (!item.isString()) bad(name);
    list.push_back(item.asString());
  }
  out = std::move(list);
}

std::string to_text(const Json::Value& v) {
  Json::StreamWriterBuilder builder;
  builder["indentation"] = "";
  builder["emitUTF8"] = true;
  return Json::writeString(builder, v);
}

std::optional<Json::Value> parse_json(const std::string& text) {
  Json::CharReaderBuilder builder;
  Json::CharReaderBuilder::strictMode(&builder.settings_);
  const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  Json::Value root;
  std::string errors;
  if (!reader->parse(text.data(), text.data() + text.size(), &root, &errors)) return std::nullopt;
  return root;
}

std::optional<Json::Value> parse_object(const std::string& text) {
  auto root = parse_json(text);
  if (!root || !root->isObject()) return std::nullopt;
  return root;
}

Json::Value to_json(const MockSettings& s) {
  Json::Value v(Json::objectValue);
  v["api_key"] = s.api_key;
  v["known_users"] = Json::Value(Json::arrayValue);
  for (const auto& user : s.known_users) v["known_users"].append(user);
  v["max_failures"] = s.max_failures;
  v["lock_seconds"] = s.lock_seconds;
  v["max_sends"] = s.max_sends;
  v["send_window_seconds"] = s.send_window_seconds;
  v["code_ttl_seconds"] = s.code_ttl_seconds;
  v["code_length"] = s.code_length;
  v["fixed_code"] = s.fixed_code;
  return v;
}

Json::Value to_json(const Fault& f) {
  Json::Value v(Json::objectValue);
  v["delay_ms"] = f.delay_ms;
  v["hang"] = f.hang;
  v["status"] = f.status;
  v["location"] = f.location;
  v["body"] = f.body;
  v["malformed_json"] = f.malformed_json;
  v["oversized_bytes"] = Json::UInt64(f.oversized_bytes);
  v["reset"] = f.reset;
  v["count"] = f.count;
  v["path"] = f.path;
  return v;
}

Json::Value to_json(const Delivery& d) {
  Json::Value v(Json::objectValue);
  v["user"] = d.user;
  v["channel"] = d.channel;
  v["to"] = d.to;
  v["code"] = d.code;
  v["transaction_id"] = d.transaction_id;
  return v;
}

Json::Value to_json(const RecordedRequest& r) {
  Json::Value v(Json::objectValue);
  v["method"] = r.method;
  v["path"] = r.path;
  v["body"] = r.body;
  Json::Value headers(Json::objectValue);
  // A repeated header is folded into one value, as HTTP allows.
  for (const auto& [name, value] : r.headers)
    headers[name] = headers.isMember(name) ? headers[name].asString() + ", " + value : value;
  v["headers"] = headers;
  return v;
}

void validate(const MockSettings& s) {
  if (s.max_failures < 1) bad("max_failures");
  if (s.lock_seconds < 1) bad("lock_seconds");
  if (s.max_sends < 1) bad("max_sends");
  if (s.send_window_seconds < 0) bad("send_window_seconds");
  if (s.code_ttl_seconds < 0) bad("code_ttl_seconds");
  if (s.code_length < 1 || s.code_length > 64) bad("code_length");
}

void apply_json(const Json::Value& obj, MockSettings& s) {
  MockSettings next = s;  // all or nothing: a bad field changes nothing
  read_string(obj, "api_key", next.api_key);
  read_string_list(obj, "known_users", next.known_users);
  read_int(obj, "max_failures", next.max_failures, 1, INT_MAX);
  read_int(obj, "lock_seconds", next.lock_seconds, 1, INT_MAX);
  read_int(obj, "max_sends", next.max_sends, 1, INT_MAX);
  read_int(obj, "send_window_seconds", next.send_window_seconds, 0, INT_MAX);
  read_int(obj, "code_ttl_seconds", next.code_ttl_seconds, 0, INT_MAX);
  read_int(obj, "code_length", next.code_length, 1, 64);
  read_string(obj, "fixed_code", next.fixed_code);
  s = std::move(next);
}

Fault fault_from_json(const Json::Value& obj) {
  Fault f;
  read_int(obj, "delay_ms", f.delay_ms, 0, INT_MAX);
  read_bool(obj, "hang", f.hang);
  read_int(obj, "status", f.status, 0, 599);
  read_string(obj, "location", f.location);
  read_string(obj, "body", f.body);
  if (f.status != 0 && f.status < 100) bad("status");
  read_bool(obj, "malformed_json", f.malformed_json);
  read_size(obj, "oversized_bytes", f.oversized_bytes);
  read_bool(obj, "reset", f.reset);
  read_int(obj, "count", f.count, 0, INT_MAX);
  read_string(obj, "path", f.path);
  return f;
}

}  // namespace otp::mock
