// The values templates can use during one login: the module's built-ins
// (user, service, rhost, channel, destination, phone, email, code, ...),
// the user's keys from the users file, values saved from responses, and the
// provider table's keys (which may themselves be templates).
#pragma once

#include <json/value.h>

#include <map>
#include <string>

#include "base/secret.h"
#include "provider/spec.h"
#include "provider/template.h"

namespace otp::provider {

class Variables final : public VariableSource {
 public:
  explicit Variables(const ProviderSpec& spec) : spec_(spec) {}
  Variables(const Variables&) = delete;
  Variables& operator=(const Variables&) = delete;
  ~Variables() override;

  void set(const std::string& name, Json::Value value);
  void set_secret(const std::string& name, const Secret& value);
  void unset(const std::string& name);

  std::optional<Json::Value> lookup(std::string_view name) const override;

 private:
  const ProviderSpec& spec_;
  std::map<std::string, Json::Value, std::less<>> values_;
  mutable int depth_ = 0;  // guards against variables that refer to each other
};

}  // namespace otp::provider
