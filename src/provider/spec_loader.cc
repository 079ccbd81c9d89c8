// The step and provider parts of the provider language. See
// conf/pam_otp.conf for the annotated syntax.
#include "provider/spec_loader.h"

#include <algorithm>
#include <set>

#include "base/json.h"
#include "base/text.h"
#include "http/url_policy.h"
#include "provider/channels.h"
#include "provider/presets.h"
#include "provider/request.h"
#include "provider/template.h"
#include "provider/variables.h"

namespace otp::provider {
namespace {

const KeySet kProviderKeys = {
    "preset", "base_url", "auth", "headers", "rules", "send", "verify",
    "channels", "destination_required", "secret_keys", "required", "choose", "rules_first", "phone_countries",
    "warn_if_literal"};

// The parameters each auth scheme takes; the first `required` are mandatory.
struct SchemeInfo {
  Auth::Scheme scheme;
  std::vector<std::string_view> params;
  std::size_t required;
};
const std::map<std::string, SchemeInfo, std::less<>> kSchemes = {
    {"none", {Auth::Scheme::None, {}, 0}},
    {"basic", {Auth::Scheme::Basic, {"user", "password"}, 2}},
    {"bearer", {Auth::Scheme::Bearer, {"token"}, 1}},
    {"header", {Auth::Scheme::Header, {"name", "value"}, 2}},
    {"blockid", {Auth::Scheme::BlockId, {"license_key", "community_public_key", "app_id", "private_key"}, 3}},
};
const KeySet kStepKeys = {
    "method", "url", "headers", "auth", "body", "form", "when", "save", "rules", "validate_jwt", "valid_until"};
const KeySet kExpiryKeys = {"local_time", "server_time"};
const KeySet kJwtKeys = {"token", "keys_file", "subject", "issuer", "when"};
const std::set<std::string, std::less<>> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};

// What the loader learns while reading: names used by templates, names
// saved by steps, names used in URLs (which must never carry a secret).
struct Usage {
  std::set<std::string, std::less<>> referenced;
  std::set<std::string, std::less<>> saved;
  std::vector<std::pair<std::string, const toml::node*>> url_names;
};

class Loader {
 public:
  Loader(Problems& problems, const std::string& file) : get_(problems, file) {}
  ProviderSpec load(const std::string& name, const toml::table& t);

 private:
  void check_template(const toml::node& n, const std::string& path, const std::string& text, bool in_url = false);
  void load_templates(const toml::table& t, const std::string& path, std::vector<std::pair<std::string, std::string>>& out);
  Auth load_auth(const toml::table& t, const std::string& path);
  void load_body(const toml::table& t, Step& step, const std::string& path);
  std::vector<Condition> load_conditions(const toml::table& when, const std::string& path);
  void load_when(const toml::table& t, Step& step, const std::string& path);
  void load_choices(const toml::table& t, ProviderSpec& spec, const std::string& path);
  void load_save(const toml::table& t, Step& step, const std::string& path);
  std::string required_pointer(const toml::table& t, const char* key, const std::string& item);
  void load_jwt(const toml::table& t, Step& step, const std::string& path, Phase phase);
  void load_expiry(const toml::table& t, Step& step, const std::string& path, Phase phase);
  Step load_step(const toml::table& t, const std::string& path, Phase phase);
  std::vector<Step> load_steps(const toml::table& t, std::string_view key, const std::string& path, Phase phase);
  std::optional<std::string> resolve_base_url(const std::string& url, const ProviderSpec& spec,
                                              const toml::node& node, const std::string& path);
  void load_base_urls(const toml::table& t, ProviderSpec& spec, const std::string& path);
  void load_channels(const toml::table& t, ProviderSpec& spec, const std::string& path);
  void load_variables(const toml::table& t, ProviderSpec& spec, const std::string& path);
  void check_usage(const toml::table& t, const ProviderSpec& spec, const std::string& path);

  tomlu::TomlReader get_;
  Usage usage_;
};

void Loader::check_template(const toml::node& n, const std::string& path, const std::string& text, bool in_url) {
  std::vector<std::string> names;
  if (auto error = provider::check_template(text, &names)) {
    get_.problem(n, path, "bad template: " + *error);
    return;
  }
  for (auto& name : names) {
    if (in_url) usage_.url_names.emplace_back(name, &n);
    usage_.referenced.insert(std::move(name));
  }
}

void Loader::load_templates(const toml::table& t, const std::string& path,
                            std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [key, value] : t) {
    const std::string item = path + "." + std::string(key.str());
    if (const auto* s = value.as_string()) {
      check_template(value, item, s->get());
      out.emplace_back(std::string(key.str()), s->get());
    } else {
      get_.wrong_type(value, item, "a string");
    }
  }
}

Auth Loader::load_auth(const toml::table& t, const std::string& path) {
  Auth auth;
  const auto scheme = get_.string(t, "scheme", path + ".scheme").value_or("");
  const auto info = kSchemes.find(scheme);
  if (info == kSchemes.end()) {
    get_.problem(t, path + ".scheme", "must be one of none, basic, bearer, header, blockid");
    return auth;
  }
  auth.scheme = info->second.scheme;
  const auto& params = info->second.params;
  for (const auto& [key, value] : t) {
    if (key.str() == "scheme") continue;
    const std::string item = path + "." + std::string(key.str());
    if (std::find(params.begin(), params.end(), key.str()) == params.end()) {
      get_.problem(value, item, "not a parameter of the " + scheme + " scheme");
      continue;
    }
    if (auto text = get_.string(t, key.str(), item)) {
      if (key.str() != "name") check_template(value, item, *text);
      auth.params[std::string(key.str())] = *text;
    }
  }
  for (std::size_t i = 0; i < info->second.required; ++i)
    if (!auth.params.count(params[i]))
      get_.problem(t, path + "." + std::string(params[i]), "the " + scheme + " scheme needs it");
  return auth;
}

void Loader::load_body(const toml::table& t, Step& step, const std::string& path) {
  const toml::node* body = t.get("body");
  const toml::node* form = t.get("form");
  if (body != nullptr && form != nullptr) get_.problem(*form, path, "a step has either body (JSON) or form, not both");
  if (body != nullptr) {
    if (!body->is_table() && !body->is_array()) { get_.wrong_type(*body, path + ".body", "a table or an array"); return; }
    step.body_kind = Step::BodyKind::Json;
    step.body = tomlu::to_json(*body);
  } else if (const auto* f = form != nullptr ? get_.table(t, "form", path + ".form") : nullptr) {
    step.body_kind = Step::BodyKind::Form;
    step.body = tomlu::to_json(*f);
    for (const auto& [key, value] : *f)
      if (value.is_table() || value.is_array()) get_.wrong_type(value, path + ".form." + std::string(key.str()), "a string, number or boolean");
  }
  std::vector<std::string> strings;
  collect_strings(step.body, strings);
  for (const auto& s : strings) check_template(body != nullptr ? *body : *form, path + (body ? ".body" : ".form"), s);
}

// when = { name = value | [any, of] | { pattern = "ERE" } }
std::vector<Condition> Loader::load_conditions(const toml::table& when, const std::string& path) {
  std::vector<Condition> conditions;
  for (const auto& [key, value] : when) {
    Condition c{std::string(key.str()), {}, {}};
    const std::string item = path + "." + c.name;
    usage_.referenced.insert(c.name);
    if (const auto* t = value.as_table()) {
      const auto pattern = get_.string(*t, "pattern", item + ".pattern");
      if (!pattern || t->size() != 1) {
        get_.problem(value, item, "a table here must be { pattern = \"regular expression\" }");
        continue;
      }
      std::string why;
      c.pattern = Regex::compile(*pattern, why);
      if (!c.pattern) {
        get_.problem(value, item, "'" + *pattern + "' is not a POSIX extended regular expression: " + why);
        continue;
      }
    } else if (const auto* a = value.as_array()) {
      for (const auto& v : *a) c.any_of.push_back(tomlu::to_json(v));
    } else {
      c.any_of.push_back(tomlu::to_json(value));
    }
    conditions.push_back(std::move(c));
  }
  return conditions;
}

void Loader::load_when(const toml::table& t, Step& step, const std::string& path) {
  if (const auto* when = get_.table(t, "when", path + ".when")) step.when = load_conditions(*when, path + ".when");
}

// choose = { name = [ { when = {...}, value = ... }, ..., { value = ... } ] }
void Loader::load_choices(const toml::table& t, ProviderSpec& spec, const std::string& path) {
  const auto* choose = get_.table(t, "choose", path + ".choose");
  if (choose == nullptr) return;
  for (const auto& [key, value] : *choose) {
    const std::string name(key.str());
    const std::string item = path + ".choose." + name;
    const auto* alternatives = value.as_array();
    if (alternatives == nullptr) { get_.wrong_type(value, item, "an array of { when, value } tables"); continue; }
    if (is_builtin_variable(name) || t.get(name) != nullptr) { get_.problem(value, item, "already a variable"); continue; }
    std::vector<Choice> choices;
    for (const auto& alt : *alternatives) {
      const auto* a = alt.as_table();
      const toml::node* v = a != nullptr ? a->get("value") : nullptr;
      if (v == nullptr || a->size() > (a->get("when") ? 2u : 1u)) {
        get_.problem(alt, item, "each alternative is { when = { ... }, value = ... } (the last may omit when)");
        continue;
      }
      Choice choice{{}, tomlu::to_json(*v)};
      if (const auto* w = get_.table(*a, "when", item + ".when")) choice.when = load_conditions(*w, item + ".when");
      if (const auto* sv = v->as_string()) check_template(*v, item, sv->get());
      choices.push_back(std::move(choice));
    }
    spec.choices[name] = std::move(choices);
  }
}

void Loader::load_save(const toml::table& t, Step& step, const std::string& path) {
  const auto* save = get_.table(t, "save", path + ".save");
  if (save == nullptr) return;
  for (const auto& [key, value] : *save) {
    const std::string item = path + ".save." + std::string(key.str());
    if (is_builtin_variable(key.str())) { get_.problem(value, item, "cannot save into a built-in variable"); continue; }
    auto pointers = get_.strings(*save, key.str(), item);
    if (!pointers) continue;
    for (const auto& p : *pointers)
      if (!json::valid_pointer(p) || p.empty()) get_.problem(value, item, "'" + p + "' is not a JSON Pointer");
    usage_.saved.insert(std::string(key.str()));
    step.save.emplace_back(std::string(key.str()), std::move(*pointers));
  }
}

// A required key of table `item` whose value is a non-empty JSON Pointer.
std::string Loader::required_pointer(const toml::table& t, const char* key, const std::string& item) {
  const auto v = get_.string(t, key, item + "." + key);
  if (!v) {
    if (t.get(key) == nullptr) get_.problem(t, item + "." + key, "is required");
    return std::string();
  }
  if (!json::valid_pointer(*v) || v->empty()) get_.problem(*t.get(key), item + "." + key, "must be a JSON Pointer");
  return *v;
}

// validate_jwt = { token = "/sessionJwt", keys_file = "${session_keys}",
// subject = "${user_id}", issuer = "${project_id}" }: a pointer into the
// answer, then templates.
void Loader::load_jwt(const toml::table& t, Step& step, const std::string& path, Phase phase) {
  const auto* jwt = get_.table(t, "validate_jwt", path + ".validate_jwt");
  if (jwt == nullptr) return;
  const std::string item = path + ".validate_jwt";
  if (phase != Phase::Verify) get_.problem(*jwt, item, "only a verify step can check a session token");
  for (const auto& [key, value] : *jwt) {
    if (key.str() == "keys_url")
      get_.problem(value, item + ".keys_url", "the keys no longer come over the connection the answer came over: "
                                              "give keys_file, a JWKS file (see validate_jwt in pam_otp.conf(5))");
    else if (!kJwtKeys.count(key.str()))
      get_.problem(value, item + "." + std::string(key.str()), "unknown key");
  }
  step.jwt.token = required_pointer(*jwt, "token", item);
  if (const auto* when = get_.table(*jwt, "when", item + ".when")) step.jwt_when = load_conditions(*when, item + ".when");
  for (auto [key, field] : {std::pair{"keys_file", &step.jwt.keys_file}, std::pair{"subject", &step.jwt.subject},
                            std::pair{"issuer", &step.jwt.issuer}}) {
    if (auto text = get_.string(*jwt, key, item + "." + key)) {
      check_template(*jwt->get(key), item + "." + key, *text);
      *field = *text;
    } else if (jwt->get(key) == nullptr && std::string_view(key) != "issuer") {
      get_.problem(*jwt, item + "." + key, "is required");
    }
  }
}

// valid_until = { local_time = "/detail/multi_challenge/*/attributes/valid_until",
// server_time = "/time" }: pointers into a send's answer.
void Loader::load_expiry(const toml::table& t, Step& step, const std::string& path, Phase phase) {
  const auto* table = get_.table(t, "valid_until", path + ".valid_until");
  if (table == nullptr) return;
  const std::string item = path + ".valid_until";
  if (phase != Phase::Send) get_.problem(*table, item, "only a send step's answer says when its code expires");
  for (const auto& [key, value] : *table)
    if (!kExpiryKeys.count(key.str())) get_.problem(value, item + "." + std::string(key.str()), "unknown key");
  step.expiry.local_time = required_pointer(*table, "local_time", item);
  step.expiry.server_time = required_pointer(*table, "server_time", item);
}

Step Loader::load_step(const toml::table& t, const std::string& path, Phase phase) {
  Step step;
  step.where = tomlu::file_of(t, get_.file()) + ":" + std::to_string(tomlu::line_of(t));
  for (const auto& [key, value] : t)
    if (!kStepKeys.count(key.str())) get_.problem(value, path + "." + std::string(key.str()), "unknown step key");
  step.method = get_.string(t, "method", path + ".method").value_or("POST");
  if (!kMethods.count(step.method)) get_.problem(t, path + ".method", "must be GET, POST, PUT, PATCH or DELETE");
  if (auto url = get_.string(t, "url", path + ".url")) {
    check_template(*t.get("url"), path + ".url", *url, true);
    step.url = *url;
  } else if (t.get("url") == nullptr) {
    get_.problem(t, path, "a step needs a url");
  }
  if (const auto* h = get_.table(t, "headers", path + ".headers")) load_templates(*h, path + ".headers", step.headers);
  if (const auto* a = get_.table(t, "auth", path + ".auth")) step.auth = load_auth(*a, path + ".auth");
  load_body(t, step, path);
  load_when(t, step, path);
  load_save(t, step, path);
  load_jwt(t, step, path, phase);
  load_expiry(t, step, path, phase);
  if (const auto* r = get_.array(t, "rules", path + ".rules")) step.rules = load_rules(*r, get_, path + ".rules");
  const bool send = phase == Phase::Send;
  for (const auto& rule : step.rules) {
    const bool wrong_phase = send ? (rule.outcome == Outcome::WrongCode || rule.outcome == Outcome::Expired)
                                  : rule.outcome == Outcome::Sent;
    if (wrong_phase)
      get_.problem(t, path + ".rules", "outcome '" + std::string(outcome_name(rule.outcome)) + "' cannot happen in the " +
                                           (send ? "send" : "verify") + " phase");
  }
  return step;
}

std::vector<Step> Loader::load_steps(const toml::table& t, std::string_view key, const std::string& path, Phase phase) {
  std::vector<Step> steps;
  const auto* array = get_.array(t, key, path);
  if (array == nullptr) {
    if (t.get(key) == nullptr) get_.problem(t, path, "the provider has no " + std::string(key) + " steps");
    return steps;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    if (const auto* st = (*array)[i].as_table()) {
      steps.push_back(load_step(*st, item, phase));
    } else {
      get_.wrong_type((*array)[i], item, "a table");
    }
  }
  if (array->empty()) get_.problem(*array, path, "the provider has no " + std::string(key) + " steps");
  return steps;
}

// base_url may use the provider table's own keys (Stytch's test or live
// host), never a user's data; it is resolved here, once, and checked as a URL.
std::optional<std::string> Loader::resolve_base_url(const std::string& url, const ProviderSpec& spec,
                                                    const toml::node& node, const std::string& path) {
  std::vector<std::string> names;
  check_template(node, path, url, true);
  if (provider::check_template(url, &names)) return std::nullopt;
  for (const auto& name : names) {
    if (spec.vars.count(name) || spec.choices.count(name)) continue;
    get_.problem(node, path, "base_url may only use the provider table's keys, not '" + name + "'");
    return std::nullopt;
  }
  try {
    std::string resolved = expand_text(url, Variables(spec));
    while (!resolved.empty() && resolved.back() == '/') resolved.pop_back();
    return resolved;
  } catch (const TemplateError& e) {
    get_.problem(node, path, e.what());
    return std::nullopt;
  }
}

void Loader::load_base_urls(const toml::table& t, ProviderSpec& spec, const std::string& path) {
  auto urls = get_.strings(t, "base_url", path + ".base_url");
  if (!urls) return;
  const toml::node& node = *t.get("base_url");
  for (const auto& url : *urls) {
    const auto resolved = resolve_base_url(url, spec, node, path + ".base_url");
    if (!resolved) continue;
    if (auto problem = http::url_problem(*resolved)) get_.problem(node, path + ".base_url", *problem);
    else spec.base_urls.push_back(*resolved);
  }
  if (urls->empty()) get_.problem(node, path + ".base_url", "must not be empty");
}

void Loader::load_channels(const toml::table& t, ProviderSpec& spec, const std::string& path) {
  const toml::node* n = t.get("channels");
  if (n == nullptr) return;
  auto add = [&](const std::string& ours, const std::string& theirs) {
    if (find_channel(ours) == nullptr)
      get_.problem(*n, path + ".channels", "unknown channel '" + ours + "' (" + channel_names(false) + ")");
    else spec.channels[ours] = theirs;
  };
  if (const auto* tbl = n->as_table()) {
    for (const auto& [key, value] : *tbl) {
      if (const auto* s = value.as_string()) add(std::string(key.str()), s->get());
      else get_.wrong_type(value, path + ".channels." + std::string(key.str()), "a string");
    }
  } else if (auto list = get_.strings(t, "channels", path + ".channels")) {
    for (const auto& c : *list) add(c, c);
  }
}

void Loader::load_variables(const toml::table& t, ProviderSpec& spec, const std::string& path) {
  if (auto extra = get_.strings(t, "secret_keys", path + ".secret_keys"))
    spec.secret_vars.insert(extra->begin(), extra->end());
  for (const auto& [key, value] : t) {
    const std::string name(key.str());
    if (kProviderKeys.count(name)) continue;
    const std::string item = path + "." + name;
    if (is_builtin_variable(name) && !is_overridable_builtin(name)) {
      get_.problem(value, item, "is a built-in variable and cannot be set here");
      continue;
    }
    if (value.is_table()) { get_.problem(value, item, "unknown key (a table is not a variable)"); continue; }
    if (const auto* s = value.as_string()) check_template(value, item, s->get());
    if (looks_secret(name)) spec.secret_vars.insert(name);
    spec.vars[name] = tomlu::to_json(value);
  }
}

ProviderSpec Loader::load(const std::string& name, const toml::table& t) {
  const std::string path = "provider." + name;
  ProviderSpec spec;
  spec.name = name;
  spec.preset = get_.string(t, "preset", path + ".preset").value_or("");
  load_variables(t, spec, path);
  load_choices(t, spec, path);
  load_base_urls(t, spec, path);
  if (const auto* a = get_.table(t, "auth", path + ".auth")) spec.auth = load_auth(*a, path + ".auth");
  if (const auto* h = get_.table(t, "headers", path + ".headers")) load_templates(*h, path + ".headers", spec.headers);
  if (const auto* r = get_.array(t, "rules_first", path + ".rules_first"))
    spec.rules_first = load_rules(*r, get_, path + ".rules_first");
  if (const auto* r = get_.array(t, "rules", path + ".rules")) spec.rules = load_rules(*r, get_, path + ".rules");
  spec.send = load_steps(t, "send", path + ".send", Phase::Send);
  spec.verify = load_steps(t, "verify", path + ".verify", Phase::Verify);
  load_channels(t, spec, path);
  spec.destination_required = get_.boolean(t, "destination_required", path + ".destination_required").value_or(true);
  if (auto countries = get_.strings(t, "phone_countries", path + ".phone_countries")) spec.phone_countries = *countries;
  if (const auto* warn = get_.table(t, "warn_if_literal", path + ".warn_if_literal"))
    for (const auto& [key, value] : *warn)
      if (auto text = get_.string(*warn, key.str(), path + ".warn_if_literal." + std::string(key.str())))
        spec.warn_if_literal[std::string(key.str())] = *text;
  spec.uses_password = usage_.referenced.count("password") > 0;
  check_usage(t, spec, path);
  return spec;
}

// Every template string a variable is made of: a provider key's value (at
// any depth of an array or table) and every alternative of a `choose`.
std::vector<std::string> templates_of(const ProviderSpec& spec, std::string_view name) {
  std::vector<std::string> out;
  if (const auto it = spec.vars.find(name); it != spec.vars.end()) collect_strings(it->second, out);
  if (const auto it = spec.choices.find(name); it != spec.choices.end())
    for (const auto& choice : it->second) collect_strings(choice.value, out);
  return out;
}

// Secrets must never reach a URL, through any chain of variables: a name is
// tainted when any template it is made of references a tainted name.
std::set<std::string, std::less<>> tainted_names(const ProviderSpec& spec) {
  std::set<std::string, std::less<>> tainted(spec.secret_vars.begin(), spec.secret_vars.end());
  tainted.insert({"code", "password"});
  std::vector<std::string> names;
  for (const auto& [name, value] : spec.vars) names.push_back(name);
  for (const auto& [name, choices] : spec.choices) names.push_back(name);
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& name : names) {
      if (tainted.count(name)) continue;
      for (const auto& text : templates_of(spec, name)) {
        std::vector<std::string> used;
        provider::check_template(text, &used);
        if (std::any_of(used.begin(), used.end(), [&](const std::string& n) { return tainted.count(n) > 0; })) {
          grew = tainted.insert(name).second || grew;
          break;
        }
      }
    }
  }
  return tainted;
}

bool has_relative_url(const ProviderSpec& spec) {
  for (const auto* steps : {&spec.send, &spec.verify})
    for (const auto& step : *steps)
      if (!is_absolute_url(step.url)) return true;
  return false;
}

void Loader::check_usage(const toml::table& t, const ProviderSpec& spec, const std::string& path) {
  // An unused key the administrator wrote is most likely misspelled; a
  // preset's own key may go unused when the administrator overrides
  // what used it (base_url, say).
  auto from_preset = [](const toml::node& n) { return tomlu::file_of(n).rfind("preset ", 0) == 0; };
  std::string hint = "misspelled? see pam_otp.conf(5) for the provider's keys";
  if (!spec.preset.empty()) {
    hint = "misspelled? preset '" + spec.preset + "' takes:";
    for (const auto& key : preset_keys(spec.preset)) hint += " " + key;
  }
  for (const auto& [name, value] : spec.vars) {
    if (usage_.referenced.count(name) || from_preset(*t.get(name))) continue;
    get_.problem(*t.get(name), path + "." + name, "unknown key: no template uses it (" + hint + ")");
  }
  for (const auto& [name, alternatives] : spec.choices)
    if (!usage_.referenced.count(name) && !from_preset(*t["choose"][name].node()))
      get_.problem(*t.get("choose"), path + ".choose." + name, "no template uses it");
  const auto tainted = tainted_names(spec);
  for (const auto& [name, node] : usage_.url_names)
    if (tainted.count(name))
      get_.problem(*node, path, "'" + name + "' holds a secret and may not be used in a URL");
  if (spec.base_urls.empty() && t.get("base_url") == nullptr && has_relative_url(spec))
    get_.problem(t, path + ".base_url", "is required (steps use relative URLs)");
}

}  // namespace

const KeySet& provider_table_keys() { return kProviderKeys; }
const KeySet& step_keys() { return kStepKeys; }

std::map<std::string, std::vector<std::string>> auth_scheme_params() {
  std::map<std::string, std::vector<std::string>> result;
  for (const auto& [name, info] : kSchemes) result[name].assign(info.params.begin(), info.params.end());
  return result;
}

std::optional<ProviderSpec> load_provider(const std::string& name, toml::table&& table, Problems& problems,
                                          const std::string& fallback_file) {
  const std::size_t errors_before = problems.list().size();
  tomlu::TomlReader get(problems, fallback_file);
  if (auto preset = get.string(table, "preset", "provider." + name + ".preset")) {
    const auto text = preset_text(*preset);
    if (!text) {
      get.problem(*table.get("preset"), "provider." + name + ".preset",
                  "unknown preset '" + *preset + "' (known: " + preset_list() + ")");
      return std::nullopt;
    }
    auto base = tomlu::parse(*text, "preset " + *preset, problems);
    if (!base) return std::nullopt;
    auto required = get.strings(*base, "required", "required").value_or(std::vector<std::string>{});
    for (const auto& key : required)
      if (table.get(key) == nullptr)
        get.problem(table, "provider." + name + "." + key, "is required by preset '" + *preset + "'");
    tomlu::merge_into(*base, std::move(table));
    table = std::move(*base);
  }
  auto spec = Loader(problems, fallback_file).load(name, table);
  spec.source = tomlu::to_json(table);
  const bool new_errors = std::any_of(problems.list().begin() + static_cast<std::ptrdiff_t>(errors_before),
                                      problems.list().end(), [](const Problem& p) { return !p.warning; });
  if (new_errors) return std::nullopt;
  return spec;
}

}  // namespace otp::provider
