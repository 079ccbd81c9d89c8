// The values templates can use during one login, in layers; the first layer
// that has a name wins:
//   1. values saved from the provider's responses (transaction_id, ...)
//   2. the user's keys from the users file (phone, email, user_id, ...)
//   3. the provider table's keys and `choose` values (which may be templates)
//   4. the module's built-ins (user, service, rhost, channel, destination,
//      code, password, ...)
// Inside a provider key's template a reference to that same key reads the
// layers below it, so `user = "${user}@corp"` or `email = "${email}"` work
// as the shell's PATH=$PATH:... does.
#pragma once

#include <json/value.h>

#include <map>
#include <set>
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

  void set_builtin(const std::string& name, Json::Value value);
  void set_builtin_secret(const std::string& name, const Secret& value);
  void unset_builtin(const std::string& name);
  void set_user_key(const std::string& name, Json::Value value);
  void save(const std::string& name, Json::Value value);  // from a response

  std::optional<Json::Value> lookup(std::string_view name) const override;

 private:
  std::optional<Json::Value> provider_value(std::string_view name) const;
  static std::optional<Json::Value> find(const std::map<std::string, Json::Value, std::less<>>& layer,
                                         std::string_view name);

  const ProviderSpec& spec_;
  std::map<std::string, Json::Value, std::less<>> saved_;
  std::map<std::string, Json::Value, std::less<>> user_keys_;
  std::map<std::string, Json::Value, std::less<>> builtins_;
  mutable std::set<std::string, std::less<>> resolving_;  // provider keys being expanded
};

}  // namespace otp::provider
