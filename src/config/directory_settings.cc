#include "config/directory_settings.h"

#include <algorithm>
#include <cctype>

#include "config/safe_file.h"
#include "directory/filter.h"
#include "provider/channels.h"

namespace otp::config {
namespace {

constexpr std::string_view kKeys[] = {"uri",         "ca_file", "bind_dn",        "bind_password_file", "client_cert",
                                      "client_key",  "base",    "filter",         "attributes",         "default_region",
                                      "timeout",     "follow_referrals"};

std::string key_list() {
  std::string out;
  for (const auto k : kKeys) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

// An attribute description (RFC 4512): a name of letters, digits and
// hyphens starting with a letter, or a numeric OID.
bool attribute_name(std::string_view a) {
  if (a.empty() || a.size() > 64) return false;
  if (std::isdigit(static_cast<unsigned char>(a[0])))
    return a.find_first_not_of("0123456789.") == std::string_view::npos && a.back() != '.';
  return std::isalpha(static_cast<unsigned char>(a[0])) &&
         std::all_of(a.begin(), a.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-'; });
}

// Why `uri` cannot be one of the directory's, or "".
std::string uri_problem(const std::string& uri) {
  const bool ldaps = uri.rfind("ldaps://", 0) == 0;
  if (!ldaps && uri.rfind("ldap://", 0) != 0)
    return "'" + uri + "' must start with ldaps:// (TLS) or ldap:// (StartTLS, always required)";
  const std::string rest = uri.substr(ldaps ? 8 : 7);
  const std::string host = rest.substr(0, rest.find_first_of(":/?"));
  if (host.empty()) return "'" + uri + "' names no host";
  const auto tail = rest.find('/');
  if (tail != std::string::npos && rest.find_first_not_of('/', tail) != std::string::npos)
    return "'" + uri + "' must be a server only (scheme, host and port): base and filter are keys of their own";
  return "";
}

void apply_uris(const toml::table& t, DirectoryConfig& d, tomlu::TomlReader& g, const std::string& path) {
  const auto uris = g.strings(t, "uri", path + ".uri");
  if (!uris) return;
  d.uris.clear();
  for (const auto& uri : *uris) {
    if (const std::string why = uri_problem(uri); !why.empty()) g.problem(*t.get("uri"), path + ".uri", why);
    else d.uris.push_back(uri);
  }
}

void apply_attributes(const toml::table& t, DirectoryConfig& d, tomlu::TomlReader& g, const std::string& path) {
  const toml::table* attributes = g.table(t, "attributes", path + ".attributes");
  if (attributes == nullptr) return;
  for (const auto& [channel, value] : *attributes) {
    const std::string at = path + ".attributes." + std::string(channel.str());
    const provider::ChannelInfo* info = provider::find_channel(channel.str());
    if (info == nullptr) {
      g.problem(value, at, "unknown channel (one of " + provider::channel_names(false) + ")");
      continue;
    }
    if (info->address_keys.size() != 1) {
      g.problem(value, at, "takes two addresses, so no one attribute can give it: name its channels one by one");
      continue;
    }
    const auto name = g.string(*attributes, channel.str(), at);
    if (!name) continue;
    if (!attribute_name(*name)) g.problem(value, at, "'" + *name + "' is not an LDAP attribute name");
    else d.attributes.emplace_back(std::string(channel.str()), *name);
  }
  // In the order of the channel list (a table has none of its own): the
  // menu's order, as for the users file.
  const auto rank = [](const std::pair<std::string, std::string>& a) {
    return provider::find_channel(a.first) - provider::channels().data();
  };
  std::sort(d.attributes.begin(), d.attributes.end(),
            [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
}

void apply_fields(const toml::table& t, DirectoryConfig& d, tomlu::TomlReader& g, const std::string& path) {
  for (const auto& [key, value] : t)
    if (std::find(std::begin(kKeys), std::end(kKeys), key.str()) == std::end(kKeys))
      g.problem(value, path + "." + std::string(key.str()), "unknown key ([directory] has " + key_list() + ")");
  apply_uris(t, d, g, path);
  for (const auto& [name, field] :
       {std::pair<const char*, std::string*>{"ca_file", &d.ca_file}, {"bind_dn", &d.bind_dn},
        {"bind_password_file", &d.bind_password_file}, {"client_cert", &d.client_cert},
        {"client_key", &d.client_key}, {"base", &d.base}, {"filter", &d.filter},
        {"default_region", &d.default_region}})
    if (auto v = g.string(t, name, path + "." + name)) *field = *v;
  if (auto seconds = g.integer(t, "timeout", path + ".timeout", 1, 60)) d.timeout_ms = static_cast<int>(*seconds * 1000);
  if (auto follow = g.boolean(t, "follow_referrals", path + ".follow_referrals")) d.follow_referrals = *follow;
  apply_attributes(t, d, g, path);
}

// What the table as a whole must say, at the table's line.
void check(const toml::node& at, const DirectoryConfig& d, tomlu::TomlReader& g, const std::string& path) {
  auto problem = [&](const std::string& why) { g.problem(at, path, why); };
  if (d.uris.empty()) problem("needs uri: the servers to ask (ldaps://... or ldap://...)");
  if (d.base.empty()) problem("needs base: where the users are (\"dc=example,dc=com\")");
  if (d.attributes.empty()) problem("needs [directory.attributes]: which attribute gives which channel (sms = \"mobile\")");
  std::string why;
  if (!directory::FilterTemplate::parse(d.filter, &why)) problem("filter '" + d.filter + "' " + why);
  if (!d.bind_dn.empty() && d.bind_password_file.empty()) problem("bind_dn needs bind_password_file");
  if (d.bind_dn.empty() && !d.bind_password_file.empty()) problem("bind_password_file needs bind_dn");
  if (d.client_cert.empty() != d.client_key.empty()) problem("client_cert and client_key go together");
  if (!d.bind_dn.empty() && !d.client_cert.empty())
    problem("bind_dn (a simple bind) or client_cert (SASL EXTERNAL), not both");
  if (!d.default_region.empty() &&
      (d.default_region.size() != 2 ||
       !std::all_of(d.default_region.begin(), d.default_region.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; })))
    problem("default_region '" + d.default_region + "' must be a two-letter ISO 3166 code in capitals (\"US\", \"GB\")");
  for (const auto* file : {&d.ca_file, &d.bind_password_file, &d.client_cert, &d.client_key})
    if (!file->empty() && (*file)[0] != '/') problem("'" + *file + "' must be an absolute path");
}

}  // namespace

void apply_directory(const toml::table& doc, Config& c, tomlu::TomlReader& g, std::string_view key) {
  const toml::table* t = g.table(doc, key, std::string(key));
  if (t == nullptr) return;
  DirectoryConfig d;
  apply_fields(*t, d, g, std::string(key));
  check(*doc.get(key), d, g, std::string(key));
  c.directory = std::move(d);
}

void show_directory(const Config& c, toml::table& out, std::string_view key) {
  if (!c.directory) return;
  const DirectoryConfig& d = *c.directory;
  toml::table t;
  toml::array uris;
  for (const auto& u : d.uris) uris.push_back(u);
  t.insert("uri", std::move(uris));
  t.insert("ca_file", d.ca_file);
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"bind_dn", &d.bind_dn},
                                    {"bind_password_file", &d.bind_password_file}, {"client_cert", &d.client_cert},
                                    {"client_key", &d.client_key}, {"default_region", &d.default_region}})
    if (!value->empty()) t.insert(name, *value);
  t.insert("base", d.base);
  t.insert("filter", d.filter);
  t.insert("timeout", d.timeout_ms / 1000);
  t.insert("follow_referrals", d.follow_referrals);
  toml::table attributes;
  for (const auto& [channel, attribute] : d.attributes) attributes.insert(channel, attribute);
  t.insert("attributes", std::move(attributes));
  out.insert(key, std::move(t));
}

void apply_destinations(const toml::table& doc, Config& c, tomlu::TomlReader& g, std::string_view key) {
  c.destinations = c.directory ? std::vector<std::string>{"users_file", "directory"} : std::vector<std::string>{"users_file"};
  const auto v = g.strings(doc, key, std::string(key));
  if (!v) return;
  const toml::node& at = *doc.get(key);
  std::vector<std::string> sources;
  for (const auto& s : *v) {
    if (s != "users_file" && s != "directory")
      g.problem(at, std::string(key), "'" + s + "' is not a source (users_file, directory)");
    else if (std::find(sources.begin(), sources.end(), s) != sources.end())
      g.problem(at, std::string(key), "names '" + s + "' twice");
    else if (s == "directory" && !c.directory)
      g.problem(at, std::string(key), "names the directory, but there is no [directory] table");
    else
      sources.push_back(s);
  }
  if (v->empty()) g.problem(at, std::string(key), "needs at least one source");
  c.destinations = sources;
}

void load_directory_files(const toml::table& doc, Config& c, tomlu::TomlReader& g) {
  if (!c.directory) return;
  DirectoryConfig& d = *c.directory;
  const toml::node& at = *doc.get("directory");
  // (Here, with every key read: deadline may come after the table.)
  if (d.timeout_ms > c.deadline * 1000)
    g.problem(at, "directory.timeout", "must fit in deadline (" + std::to_string(c.deadline) + " s)");
  for (const auto& [name, path, secret] :
       {std::tuple<const char*, const std::string*, bool>{"ca_file", &d.ca_file, false},
        {"client_cert", &d.client_cert, false}, {"client_key", &d.client_key, true},
        {"bind_password_file", &d.bind_password_file, true}}) {
    if (path->empty() || (*path)[0] != '/') continue;
    std::string why;
    auto file = read_safe_file(*path, why);
    if (file && secret)
      if (auto problem = secret_mode_problem(*file, c.secrets_group)) why = *problem, file.reset();
    if (!file) {
      g.problem(at, std::string("directory.") + name, "'" + *path + "' " + why);
      continue;
    }
    if (std::string(name) == "bind_password_file") {
      const std::string_view text = file->text.reveal();
      d.bind_password = Secret(text.substr(0, text.find('\n')));
      if (d.bind_password.empty()) g.problem(at, "directory.bind_password_file", "'" + *path + "' is empty");
    }
  }
}

}  // namespace otp::config
