// Dialects <-> JSON for /mock/dialects, through jsoncpp and the shared
// field readers of mock_json.h.
#include <climits>
#include <stdexcept>
#include <utility>

#include "dialects/dialect_util.h"
#include "dialects/dialects.h"
#include "mock_json.h"

namespace otp::mock {
namespace {

[[noreturn]] void bad(const std::string& field) { throw std::invalid_argument(field); }

Json::Value list_json(const std::vector<std::string>& items) {
  Json::Value v(Json::arrayValue);
  for (const auto& item : items) v.append(item);
  return v;
}

Json::Value map_json(const std::map<std::string, std::string>& m) {
  Json::Value v(Json::objectValue);
  for (const auto& [key, value] : m) v[key] = value;
  return v;
}

// An object of objects, each read by `read` into a fresh T.
template <typename T, typename Read>
void read_map(const Json::Value& obj, const char* name, std::map<std::string, T>& out, Read read) {
  if (!obj.isMember(name)) return;
  if (!obj[name].isObject()) bad(name);
  std::map<std::string, T> next;
  for (const auto& key : obj[name].getMemberNames()) {
    if (!obj[name][key].isObject()) bad(name);
    read(obj[name][key], next[key]);
  }
  out = std::move(next);
}

void read_string_map(const Json::Value& obj, const char* name,
                     std::map<std::string, std::string>& out) {
  if (!obj.isMember(name)) return;
  if (!obj[name].isObject()) bad(name);
  std::map<std::string, std::string> next;
  for (const auto& key : obj[name].getMemberNames()) {
    if (!obj[name][key].isString()) bad(name);
    next[key] = obj[name][key].asString();
  }
  out = std::move(next);
}

Json::Value users_json(const PrivacyIdeaSettings& s) {
  Json::Value v(Json::objectValue);
  for (const auto& [name, u] : s.users) {
    v[name]["pin"] = u.pin;
    v[name]["realm"] = u.realm;
    v[name]["phone"] = u.phone;
    v[name]["email"] = u.email;
    v[name]["disabled"] = u.disabled;
  }
  return v;
}

Json::Value users_json(const BaanxSettings& s) {
  Json::Value v(Json::objectValue);
  for (const auto& [email, u] : s.users) {
    v[email]["password"] = u.password;
    v[email]["phone"] = u.phone;
    v[email]["otp_required"] = u.otp_required;
  }
  return v;
}

void apply_stytch(const Json::Value& o, Dialects& d) {
  read_string(o, "project_id", d.stytch.project_id);
  read_string(o, "secret", d.stytch.secret);
  read_string_list(o, "known_destinations", d.stytch.known_destinations);
}

void apply_descope(const Json::Value& o, Dialects& d) {
  read_string(o, "project_id", d.descope.project_id);
  read_string(o, "management_key", d.descope.management_key);
  read_string_list(o, "known_login_ids", d.descope.known_login_ids);
  read_string(o, "session", d.descope.session);
  read_string_map(o, "phones", d.descope.phones);
  read_string_map(o, "emails", d.descope.emails);
}

void apply_twilio(const Json::Value& o, Dialects& d) {
  read_string(o, "account_sid", d.twilio.account_sid);
  read_string(o, "auth_token", d.twilio.auth_token);
  read_string(o, "service_sid", d.twilio.service_sid);
  read_int(o, "max_check_attempts", d.twilio.max_check_attempts, 1, INT_MAX);
  read_int(o, "max_send_attempts", d.twilio.max_send_attempts, 1, INT_MAX);
  read_string_list(o, "invalid_numbers", d.twilio.invalid_numbers);
}

void apply_privacyidea(const Json::Value& o, Dialects& d) {
  read_map(o, "users", d.privacyidea.users, [](const Json::Value& u, PrivacyIdeaUser& out) {
    read_string(u, "pin", out.pin);
    read_string(u, "realm", out.realm);
    read_string(u, "phone", out.phone);
    read_string(u, "email", out.email);
    read_bool(u, "disabled", out.disabled);
  });
  read_int(o, "max_fail", d.privacyidea.max_fail, 1, INT_MAX);
  read_bool(o, "pass_on_no_user", d.privacyidea.pass_on_no_user);
  read_bool(o, "gateway_down", d.privacyidea.gateway_down);
}

void apply_blockid(const Json::Value& o, Dialects& d) {
  read_string(o, "tenant_id", d.blockid.tenant_id);
  read_string(o, "community_id", d.blockid.community_id);
  read_string(o, "license_key", d.blockid.license_key);
  read_bool(o, "status_as_string", d.blockid.status_as_string);
  read_int(o, "generate_status", d.blockid.generate_status, 200, 202);
}

void apply_baanx(const Json::Value& o, Dialects& d) {
  read_string(o, "client_key", d.baanx.client_key);
  read_map(o, "users", d.baanx.users, [](const Json::Value& u, BaanxUser& out) {
    read_string(u, "password", out.password);
    read_string(u, "phone", out.phone);
    read_bool(u, "otp_required", out.otp_required);
  });
}

void require(bool ok, const char* field) {
  if (!ok) bad(field);
}

}  // namespace

void validate(const Dialects& d) {
  require(!d.stytch.project_id.empty() && !d.stytch.secret.empty(), "stytch.credentials");
  for (const auto& to : d.stytch.known_destinations)
    require(is_e164(to) || is_email(to), "stytch.known_destinations");
  require(!d.descope.project_id.empty(), "descope.project_id");
  for (const auto& [id, phone] : d.descope.phones) require(is_e164(phone), "descope.phones");
  for (const auto& [id, email] : d.descope.emails) require(is_email(email), "descope.emails");
  require(d.descope.session == "opaque" || d.descope.session == "signed" || d.descope.session == "forged" || d.descope.session == "expired" ||
              d.descope.session == "other_user",
          "descope.session");
  require(!d.twilio.account_sid.empty() && !d.twilio.auth_token.empty() &&
              !d.twilio.service_sid.empty(),
          "twilio.credentials");
  require(d.twilio.max_check_attempts >= 1, "twilio.max_check_attempts");
  require(d.twilio.max_send_attempts >= 1, "twilio.max_send_attempts");
  for (const auto& [name, u] : d.privacyidea.users)
    require(!name.empty() && (u.phone.empty() || is_e164(u.phone)) && (u.email.empty() || is_email(u.email)),
            "privacyidea.users");
  require(d.privacyidea.max_fail >= 1, "privacyidea.max_fail");
  require(!d.blockid.tenant_id.empty() && !d.blockid.community_id.empty() &&
              !d.blockid.license_key.empty(),
          "blockid.ids");
  require(!d.baanx.client_key.empty(), "baanx.client_key");
  for (const auto& [email, u] : d.baanx.users)
    require(is_email(email) && is_e164(u.phone), "baanx.users");
}

Json::Value to_json(const Dialects& d) {
  Json::Value v(Json::objectValue);
  v["stytch"]["project_id"] = d.stytch.project_id;
  v["stytch"]["secret"] = d.stytch.secret;
  v["stytch"]["known_destinations"] = list_json(d.stytch.known_destinations);
  v["descope"]["project_id"] = d.descope.project_id;
  v["descope"]["session"] = d.descope.session;
  v["descope"]["management_key"] = d.descope.management_key;
  v["descope"]["known_login_ids"] = list_json(d.descope.known_login_ids);
  v["descope"]["phones"] = map_json(d.descope.phones);
  v["descope"]["emails"] = map_json(d.descope.emails);
  v["twilio"]["account_sid"] = d.twilio.account_sid;
  v["twilio"]["auth_token"] = d.twilio.auth_token;
  v["twilio"]["service_sid"] = d.twilio.service_sid;
  v["twilio"]["max_check_attempts"] = d.twilio.max_check_attempts;
  v["twilio"]["max_send_attempts"] = d.twilio.max_send_attempts;
  v["twilio"]["invalid_numbers"] = list_json(d.twilio.invalid_numbers);
  v["privacyidea"]["users"] = users_json(d.privacyidea);
  v["privacyidea"]["max_fail"] = d.privacyidea.max_fail;
  v["privacyidea"]["pass_on_no_user"] = d.privacyidea.pass_on_no_user;
  v["privacyidea"]["gateway_down"] = d.privacyidea.gateway_down;
  v["blockid"]["tenant_id"] = d.blockid.tenant_id;
  v["blockid"]["community_id"] = d.blockid.community_id;
  v["blockid"]["license_key"] = d.blockid.license_key;
  v["blockid"]["generate_status"] = d.blockid.generate_status;
  v["blockid"]["status_as_string"] = d.blockid.status_as_string;
  v["baanx"]["client_key"] = d.baanx.client_key;
  v["baanx"]["users"] = users_json(d.baanx);
  return v;
}

void apply_json(const Json::Value& obj, Dialects& d) {
  using Apply = void (*)(const Json::Value&, Dialects&);
  static constexpr std::pair<const char*, Apply> kSections[] = {
      {"stytch", apply_stytch},           {"descope", apply_descope}, {"twilio", apply_twilio},
      {"privacyidea", apply_privacyidea}, {"blockid", apply_blockid}, {"baanx", apply_baanx}};
  Dialects next = d;  // all or nothing
  for (const auto& [name, apply] : kSections) {
    if (!obj.isMember(name)) continue;
    if (!obj[name].isObject()) bad(name);
    try {
      apply(obj[name], next);
    } catch (const std::invalid_argument& e) {
      bad(std::string(name) + "." + e.what());
    }
  }
  validate(next);
  d = std::move(next);
}

}  // namespace otp::mock
