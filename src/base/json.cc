#include "base/json.h"

#include <json/reader.h>
#include <json/writer.h>

#include <cmath>
#include <memory>
#include <ostream>
#include <streambuf>

#include "base/secret.h"
#include "base/text.h"

namespace otp::json {

namespace {

// Made once: building the settings costs more than parsing a short
// document (each of a login's state service calls parses two).
const Json::CharReaderBuilder& strict_reader() {
  static const Json::CharReaderBuilder builder = [] {
    Json::CharReaderBuilder b;
    Json::CharReaderBuilder::strictMode(&b.settings_);
    b.settings_["stackLimit"] = 64;
    return b;
  }();
  return builder;
}

}  // namespace

std::optional<Json::Value> parse(std::string_view text) {
  const std::unique_ptr<Json::CharReader> reader(strict_reader().newCharReader());
  Json::Value out;
  std::string errors;
  try {
    if (!reader->parse(text.data(), text.data() + text.size(), &out, &errors)) return std::nullopt;
  } catch (const std::exception&) {  // jsoncpp throws past its stack limit
    return std::nullopt;
  }
  return out;
}

std::string_view view(const Json::Value& v) {
  const char* begin = nullptr;
  const char* end = nullptr;
  if (!v.isString() || !v.getString(&begin, &end) || begin == nullptr) return {};
  return std::string_view(begin, static_cast<std::size_t>(end - begin));
}

void append_text(const Json::Value& v, SecureString& out) {
  if (v.isString()) out.append(view(v));
  else if (!v.isNull()) out.append(to_secret(v).reveal());
}

WipeOnExit::~WipeOnExit() { wipe(v_); }

bool all_utf8(const Json::Value& v) {
  if (v.isString()) return is_utf8(view(v));
  if (v.isObject())
    for (auto it = v.begin(); it != v.end(); ++it) {
      const char* end = nullptr;
      const char* name = it.memberName(&end);
      if (!is_utf8(std::string_view(name, static_cast<std::size_t>(end - name))) || !all_utf8(*it)) return false;
    }
  if (v.isArray())
    for (const auto& item : v)
      if (!all_utf8(item)) return false;
  return true;
}

namespace {

const Json::StreamWriterBuilder& compact_writer() {
  static const Json::StreamWriterBuilder builder = [] {
    Json::StreamWriterBuilder b;
    b["indentation"] = "";
    b["emitUTF8"] = true;
    return b;
  }();
  return builder;
}

// An output buffer that appends to a SecureString, so the text written never
// sits in a buffer that is freed unwiped.
class SecureBuffer final : public std::streambuf {
 public:
  explicit SecureBuffer(SecureString& out) : out_(out) {}

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) out_.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_.append(s, static_cast<std::size_t>(n));
    return n;
  }

 private:
  SecureString& out_;
};

}  // namespace

std::string to_string(const Json::Value& v) { return Json::writeString(compact_writer(), v); }

Secret to_secret(const Json::Value& v) {
  SecureString text;
  text.reserve(256);
  SecureBuffer buffer(text);
  std::ostream out(&buffer);
  const std::unique_ptr<Json::StreamWriter> writer(compact_writer().newStreamWriter());
  writer->write(v, &out);
  return Secret(std::move(text));
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

std::optional<Json::Value> resolve_all(const Json::Value& doc, std::string_view pointer) {
  const auto star = pointer.find("/*");
  if (star == std::string_view::npos || (star + 2 < pointer.size() && pointer[star + 2] != '/')) {
    const Json::Value* v = resolve(doc, pointer);
    if (v == nullptr || v->isNull()) return std::nullopt;
    return *v;
  }
  const Json::Value* parent = resolve(doc, pointer.substr(0, star));
  if (parent == nullptr || !(parent->isArray() || parent->isObject())) return std::nullopt;
  const std::string_view rest = pointer.substr(star + 2);
  Json::Value all(Json::arrayValue);
  for (const auto& item : *parent)
    if (auto v = resolve_all(item, rest); v && !v->isNull()) all.append(std::move(*v));
  if (all.empty()) return std::nullopt;
  return all;
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
