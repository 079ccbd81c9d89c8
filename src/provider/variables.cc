#include "provider/variables.h"

#include "base/json.h"

namespace otp::provider {
namespace {
constexpr int kMaxDepth = 8;
}

Variables::~Variables() {
  for (auto& [name, value] : values_) json::wipe(value);
}

void Variables::set(const std::string& name, Json::Value value) {
  auto& slot = values_[name];
  json::wipe(slot);
  slot = std::move(value);
}

void Variables::set_secret(const std::string& name, const Secret& value) { set(name, Json::Value(value.reveal())); }

void Variables::unset(const std::string& name) {
  if (auto it = values_.find(name); it != values_.end()) {
    json::wipe(it->second);
    values_.erase(it);
  }
}

std::optional<Json::Value> Variables::lookup(std::string_view name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  const auto it = spec_.vars.find(name);
  if (it == spec_.vars.end()) return std::nullopt;
  if (!it->second.isString() || it->second.asString().find("${") == std::string::npos) return it->second;
  // A provider key whose value is a template, e.g. login_id = "${destination}".
  if (depth_ >= kMaxDepth) throw TemplateError("variables refer to each other in a loop (at '" + std::string(name) + "')");
  ++depth_;
  struct Restore {
    int& d;
    ~Restore() { --d; }
  } restore{depth_};
  return expand_value(it->second.asString(), *this);
}

}  // namespace otp::provider
