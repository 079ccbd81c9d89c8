#include "base/json.h"

#include <json/reader.h>
#include <json/writer.h>

#include <cmath>
#include <memory>

#include "base/secret.h"
#include "base/text.h"

namespace otp::json {

std::optional<Json::Value> parse(std::string_view text) {
  Json::CharReaderBuilder builder;
  Json::CharReaderBuilder::strictMode(&builder.settings_);
  builder.settings_["stackLimit"] = 64;
  const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  Json::Value out;
  std::string errors;
  try {
    if (!reader->parse(text.data(), text.data() + text.size(), &out, &errors)) return std::nullopt;
  } catch (const std::exception&) {  // jsoncpp throws past its stack limit
    return std::nullopt;
  }
  return out;
}

bool all_utf8(const Json::Value& v) {
  if (v.isString()) return is_utf8(v.asString());
  if (v.isObject())
    for (auto it = v.begin(); it != v.end(); ++it)
      if (!is_utf8(it.name()) || !all_utf8(*it)) return false;
  if (v.isArray())
    for (const auto& item : v)
      if (!all_utf8(item)) return false;
  return true;
}

std::string to_string(const Json::Value& v) {
  Json::StreamWriterBuilder builder;
  builder["indentation"] = "";
  builder["emitUTF8"] = true;
  return Json::writeString(builder, v);
}

bool valid_pointer(std::string_view pointer) {
  if (pointer.empty()) return true;
  if (pointer.front() != '/') return false;
  for (std::size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] != '~') continue;
    if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) return false;
  }
  return true;
}

namespace {

std::string unescape_token(std::string_view token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size()) {
      out += token[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

const Json::Value* step_into(const Json::Value& node, const std::string& token) {
  if (node.isObject()) return node.find(token.data(), token.data() + token.size());
  if (!node.isArray() || token.empty() || token.size() > 9) return nullptr;
  for (char c : token)
    if (c < '0' || c > '9') return nullptr;
  if (token.size() > 1 && token[0] == '0') return nullptr;
  const auto index = static_cast<Json::ArrayIndex>(std::stoul(token));
  return index < node.size() ? &node[index] : nullptr;
}

}  // namespace

const Json::Value* resolve(const Json::Value& doc, std::string_view pointer) {
  if (!valid_pointer(pointer)) return nullptr;
  const Json::Value* node = &doc;
  std::size_t pos = 0;
  while (pos < pointer.size() && node != nullptr) {
    const std::size_t next = pointer.find('/', pos + 1);
    const auto token = pointer.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    node = step_into(*node, unescape_token(token));
    pos = next == std::string_view::npos ? pointer.size() : next;
  }
  return node;
}

bool equal(const Json::Value& a, const Json::Value& b) {
  if (a.isNumeric() && b.isNumeric() && !a.isBool() && !b.isBool()) {
    if (a.isIntegral() && b.isIntegral()) {
      if (a.isInt64() && b.isInt64()) return a.asInt64() == b.asInt64();
      if (a.isUInt64() && b.isUInt64()) return a.asUInt64() == b.asUInt64();
      return false;
    }
    return a.asDouble() == b.asDouble();
  }
  return a.type() == b.type() && a == b;
}

std::string as_text(const Json::Value& v) {
  if (v.isString()) return v.asString();
  if (v.isNull()) return "";
  return to_string(v);
}

void wipe(Json::Value& v) noexcept {
  if (v.isString()) {
    const char* begin = nullptr;
    const char* end = nullptr;
    // jsoncpp owns this buffer; it offers no mutable view, and we are about to
    // drop the value, so writing through the const pointer is safe.
    if (v.getString(&begin, &end)) wipe_bytes(const_cast<char*>(begin), static_cast<std::size_t>(end - begin));
  } else if (v.isArray() || v.isObject()) {
    for (auto& child : v) wipe(child);
  }
  v = Json::Value();
}

}  // namespace otp::json
