#include "provider/variables.h"

#include "base/json.h"

namespace otp::provider {
namespace {

constexpr std::size_t kMaxDepth = 8;

void wipe_all(std::map<std::string, Json::Value, std::less<>>& layer) {
  for (auto& [name, value] : layer) json::wipe(value);
}

void put(std::map<std::string, Json::Value, std::less<>>& layer, const std::string& name, Json::Value value) {
  auto& slot = layer[name];
  json::wipe(slot);
  slot = std::move(value);
}

}  // namespace

Variables::~Variables() {
  wipe_all(saved_);
  wipe_all(user_keys_);
  wipe_all(builtins_);
}

void Variables::set_builtin(const std::string& name, Json::Value value) { put(builtins_, name, std::move(value)); }
void Variables::set_builtin_secret(const std::string& name, const Secret& value) {
  put(builtins_, name, Json::Value(value.reveal().data(), value.reveal().data() + value.size()));
}
void Variables::set_user_key(const std::string& name, Json::Value value) { put(user_keys_, name, std::move(value)); }
void Variables::save(const std::string& name, Json::Value value) { put(saved_, name, std::move(value)); }

void Variables::unset_builtin(const std::string& name) {
  if (auto it = builtins_.find(name); it != builtins_.end()) {
    json::wipe(it->second);
    builtins_.erase(it);
  }
}

std::optional<Json::Value> Variables::find(const std::map<std::string, Json::Value, std::less<>>& layer,
                                           std::string_view name) {
  const auto it = layer.find(name);
  if (it == layer.end()) return std::nullopt;
  return it->second;
}

std::optional<Json::Value> Variables::lookup(std::string_view name) const {
  if (resolving_.count(name)) return find(builtins_, name);  // a key's own template reads the layer below
  if (auto v = find(saved_, name)) return v;
  if (auto v = find(user_keys_, name)) return v;
  if (auto v = provider_value(name)) return v;
  return find(builtins_, name);
}

// A provider key, or the first `choose` alternative whose conditions hold.
std::optional<Json::Value> Variables::provider_value(std::string_view name) const {
  const Json::Value* raw = nullptr;
  if (const auto it = spec_.vars.find(name); it != spec_.vars.end()) {
    raw = &it->second;
  } else if (const auto ch = spec_.choices.find(name); ch != spec_.choices.end()) {
    for (const auto& alternative : ch->second) {
      if (conditions_hold(alternative.when, *this)) {
        raw = &alternative.value;
        break;
      }
    }
  }
  if (raw == nullptr) return std::nullopt;
  if (!raw->isString() || json::view(*raw).find("${") == std::string_view::npos) return *raw;
  if (resolving_.size() >= kMaxDepth) throw TemplateError("provider keys nest too deeply (at '" + std::string(name) + "')");
  const auto entry = resolving_.emplace(name).first;
  struct Done {
    std::set<std::string, std::less<>>& set;
    std::set<std::string, std::less<>>::iterator it;
    ~Done() { set.erase(it); }
  } done{resolving_, entry};
  return expand_value(json::view(*raw), *this);
}

}  // namespace otp::provider
