#include "provider/request.h"

#include <ctime>

#include "base/base64.h"
#include "base/json.h"
#include "base/text.h"
#include "provider/blockid_auth.h"

namespace otp::provider {
namespace {

// A header's value from its template, in wiped memory: it may be a credential.
Secret header_value(std::string_view tmpl, const VariableSource& vars, std::string_view name) {
  Secret value = expand_secret(tmpl, vars);
  if (value.reveal().find_first_of("\r\n") != std::string_view::npos ||
      value.reveal().find('\0') != std::string_view::npos)
    throw RequestBuildError("the value of header '" + std::string(name) + "' would contain a line break");
  return value;
}

void set_header(http::Request& request, const std::string& name, Secret value) {
  for (auto& [key, existing] : request.headers) {
    if (equals_ci(key, name)) {
      existing = std::move(value);
      return;
    }
  }
  request.headers.emplace_back(name, std::move(value));
}

// "Bearer <token>", "Basic <base64>": the scheme's word, then the credential.
Secret scheme_value(std::string_view scheme, std::string_view credential) {
  SecureString text;
  text.reserve(scheme.size() + 1 + credential.size());
  text.append(scheme).append(" ").append(credential);
  return Secret(std::move(text));
}

void add_blockid_auth(http::Request& request, const Auth& auth, const VariableSource& vars) {
  const auto h = blockid_headers(expand_secret(auth.param("license_key"), vars),
                                 expand_text(auth.param("community_public_key"), vars),
                                 expand_secret(auth.param("private_key"), vars),
                                 expand_text(auth.param("app_id"), vars), std::time(nullptr));
  set_header(request, "charset", Secret("utf-8"));
  set_header(request, "publickey", Secret(h.publickey));
  set_header(request, "licensekey", h.licensekey);
  set_header(request, "requestid", h.requestid);
}

void add_auth(http::Request& request, const Auth& auth, const VariableSource& vars) {
  switch (auth.scheme) {
    case Auth::Scheme::Inherit:
    case Auth::Scheme::None:
      return;
    case Auth::Scheme::Basic: {
      Secret pair = header_value(auth.param("user"), vars, "Authorization");
      pair.mutable_value().append(":").append(header_value(auth.param("password"), vars, "Authorization").reveal());
      set_header(request, "Authorization", scheme_value("Basic", base64_encode_secret(pair.reveal()).reveal()));
      return;
    }
    case Auth::Scheme::Bearer:
      set_header(request, "Authorization",
                 scheme_value("Bearer", header_value(auth.param("token"), vars, "Authorization").reveal()));
      return;
    case Auth::Scheme::Header:
      set_header(request, auth.param("name"), header_value(auth.param("value"), vars, auth.param("name")));
      return;
    case Auth::Scheme::BlockId:
      add_blockid_auth(request, auth, vars);
      return;
  }
}

std::string form_body(const Json::Value& form, const VariableSource& vars) {
  std::string out;
  for (auto it = form.begin(); it != form.end(); ++it) {
    std::optional<Json::Value> value = it->isString() ? expand_value(json::view(*it), vars) : *it;
    if (!value) continue;  // "${x?}" with x undefined
    if (!out.empty()) out += '&';
    std::string text = json::as_text(*value);
    out += percent_encode(it.name()) + "=" + percent_encode(text);
    wipe(text);
    json::wipe(*value);
  }
  return out;
}

void add_body(http::Request& request, const Step& step, const VariableSource& vars) {
  if (step.body_kind == Step::BodyKind::Json) {
    Json::Value body = expand_json(step.body, vars);
    if (!json::all_utf8(body)) {
      json::wipe(body);
      throw RequestBuildError("a value in the JSON body is not valid UTF-8 (a user name, a users-file value or a "
                          "value saved from the provider); nothing was sent");
    }
    request.body = json::to_secret(body);
    json::wipe(body);
    set_header(request, "Content-Type", Secret("application/json"));
  } else if (step.body_kind == Step::BodyKind::Form) {
    request.body = Secret(form_body(step.body, vars));
    set_header(request, "Content-Type", Secret("application/x-www-form-urlencoded"));
  }
}

}  // namespace

bool is_absolute_url(std::string_view url_template) {
  return starts_with_ci(url_template, "https://") || starts_with_ci(url_template, "http://");
}

http::Request build_request(const ProviderSpec& spec, const Step& step, const std::string& base,
                            const VariableSource& vars) {
  http::Request request;
  request.method = step.method;
  const std::string path = expand_text(step.url, vars, Encoding::Url);
  request.url = is_absolute_url(step.url) ? path : base + (path.empty() || path[0] == '/' ? "" : "/") + path;
  set_header(request, "Accept", Secret("application/json"));
  add_body(request, step, vars);
  for (const auto* headers : {&spec.headers, &step.headers})
    for (const auto& [name, tmpl] : *headers) set_header(request, name, header_value(tmpl, vars, name));
  add_auth(request, step.auth.scheme != Auth::Scheme::Inherit ? step.auth : spec.auth, vars);
  return request;
}

}  // namespace otp::provider
