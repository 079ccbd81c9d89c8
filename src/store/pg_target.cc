#include "store/pg_target.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "base/text.h"

namespace otp::store {
namespace {

// The query parameters a URI may set; everything else (connect_timeout,
// passfile, service, options, keepalives...) is pam_otp's to set or must
// not be set at all.
const char* const kParameters[] = {"sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "channel_binding",
                                   "requirepeer"};
const char* const kSslModes[] = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
const char* const kChannelBindings[] = {"require", "prefer", "disable"};

template <std::size_t N>
bool one_of(std::string_view value, const char* const (&list)[N]) {
  return std::any_of(std::begin(list), std::end(list), [&](const char* v) { return value == v; });
}

template <std::size_t N>
std::string joined(const char* const (&list)[N]) {
  std::string out;
  for (const char* v : list) out += (out.empty() ? "" : ", ") + std::string(v);
  return out;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// %XX decoded; nullopt for a broken escape or a decoded control character.
std::optional<std::string> decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
      c = static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    out += c;
  }
  return out;
}

bool valid_port(std::string_view port, int* out) {
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *out = std::stoi(std::string(port));
  return *out >= 1 && *out <= 65535;
}

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

// One "host[:port]" of the authority: a name, an IPv4 address, "[v6]", or
// a percent-encoded socket directory ("%2Frun%2Fpostgresql").
std::optional<PgHost> parse_host(std::string_view text, std::string* problem) {
  PgHost host;
  std::string_view name = text, port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return *problem = "an IPv6 address without its ']'", std::nullopt;
    name = text.substr(1, close - 1);
    in6_addr v6{};
    if (inet_pton(AF_INET6, std::string(name).c_str(), &v6) != 1)
      return *problem = "\"" + sanitize(name, 60) + "\" is not an IPv6 address", std::nullopt;
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return *problem = "text after an IPv6 address's ']'", std::nullopt;
      port = text.substr(close + 2);
    }
    host.name = std::string(name);
  } else {
    if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
      name = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
    const auto decoded = decode(name);
    if (!decoded || decoded->empty()) return *problem = "an empty or badly encoded host", std::nullopt;
    host.name = *decoded;
    const auto path_char = [](char c) { return name_char(c) || c == '/'; };
    if (!std::all_of(host.name.begin(), host.name.end(), host.socket_dir() ? +path_char : +name_char))
      return *problem = "\"" + sanitize(host.name, 60) + "\" is not a host name, an address or a socket directory",
             std::nullopt;
    if (!host.socket_dir()) host.name = to_lower(host.name);
  }
  if (!port.empty() || text.ends_with(':'))
    if (!valid_port(port, &host.port)) return *problem = "\"" + sanitize(port, 20) + "\" is not a port", std::nullopt;
  return host;
}

// Without TLS only where nobody else can be the server: a Unix socket
// (whose peer must be `requirepeer`), or loopback on a port only root can
// bind (as for http:// providers, url_policy.h).
std::optional<std::string> weak_tls_problem(const PgTarget& t, int unprivileged_start) {
  for (const auto& h : t.hosts) {
    if (h.socket_dir()) continue;
    if (!is_loopback_host(h.name))
      return "sslmode=" + t.sslmode + " to " + h.name + ", which is not loopback: use sslmode=verify-full with " +
             "sslrootcert naming the CA that signed the server's certificate";
    if (h.port >= unprivileged_start)
      return "sslmode=" + t.sslmode + " to " + h.name + " port " + std::to_string(h.port) +
             ", which any local user may listen on (ports " + std::to_string(unprivileged_start) +
             " up: /proc/sys/net/ipv4/ip_unprivileged_port_start): use sslmode=verify-full, a Unix socket, or a " +
             "port below " + std::to_string(unprivileged_start);
  }
  return std::nullopt;
}

std::optional<std::string> set_parameter(PgTarget& t, const std::string& key, const std::string& value) {
  if (!one_of(key, kParameters)) {
    if (key == "password") return std::string("a password in the URI: put it in state_password_file");
    return "the parameter \"" + sanitize(key, 40) + "\" is not one pam_otp takes (it takes " + joined(kParameters) + ")";
  }
  if (value.empty()) return "the parameter \"" + key + "\" is empty";
  if (key == "sslmode" && !one_of(value, kSslModes))
    return "sslmode=" + sanitize(value, 40) + " is not one of " + joined(kSslModes);
  if (key == "channel_binding" && !one_of(value, kChannelBindings))
    return "channel_binding=" + sanitize(value, 40) + " is not one of " + joined(kChannelBindings);
  if ((key == "sslrootcert" || key == "sslcert" || key == "sslkey" || key == "sslcrl") && value.front() != '/')
    return key + " must be an absolute path";
  std::string* field = key == "sslmode"           ? &t.sslmode
                       : key == "sslrootcert"     ? &t.sslrootcert
                       : key == "sslcert"         ? &t.sslcert
                       : key == "sslkey"          ? &t.sslkey
                       : key == "sslcrl"          ? &t.sslcrl
                       : key == "channel_binding" ? &t.channel_binding
                                                  : &t.requirepeer;
  *field = value;
  return std::nullopt;
}

std::optional<std::string> parse_query(PgTarget& t, std::string_view query) {
  std::map<std::string, bool> seen;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto key = decode(pair.substr(0, eq));
    const auto value = decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value) return std::string("a badly encoded query parameter");
    if (seen[*key]) return "the parameter \"" + sanitize(*key, 40) + "\" is given twice";
    seen[*key] = true;
    if (auto problem = set_parameter(t, *key, *value)) return problem;
  }
  return std::nullopt;
}

std::optional<std::string> check(const PgTarget& t, int unprivileged_start) {
  if (t.user.empty()) return std::string("no user: write postgresql://USER@HOST/DATABASE");
  if (t.dbname.empty()) return std::string("no database: write postgresql://USER@HOST/DATABASE");
  if (t.sslcert.empty() != t.sslkey.empty()) return std::string("sslcert and sslkey go together");
  if (t.sslmode == "verify-full") {
    const bool tcp = std::any_of(t.hosts.begin(), t.hosts.end(), [](const PgHost& h) { return !h.socket_dir(); });
    if (tcp && t.sslrootcert.empty())
      return std::string("sslmode=verify-full needs sslrootcert: the CA that signed the server's certificate");
    return std::nullopt;
  }
  return weak_tls_problem(t, unprivileged_start);
}

}  // namespace

bool is_pg_uri(std::string_view text) { return text.starts_with("postgresql://") || text.starts_with("postgres://"); }

std::optional<PgTarget> parse_pg_uri(std::string_view uri, std::string* problem, int unprivileged_start) {
  auto fail = [&](std::string why) { return *problem = std::move(why), std::nullopt; };
  if (!is_pg_uri(uri)) return fail("not a postgresql:// URI");
  for (char c : uri)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '#') return fail("a space, control character or '#' in the URI");
  // Before anything is split: a password may hold '/', '?' or '@', and no
  // message may quote a piece of it.
  if (redact_pg_uri(uri) != uri) return fail("a password in the URI: put it in state_password_file");
  std::string_view rest = uri.substr(uri.find("://") + 3);
  const auto query_at = rest.find('?');
  const std::string_view query = query_at == std::string_view::npos ? std::string_view() : rest.substr(query_at + 1);
  rest = rest.substr(0, query_at);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  PgTarget t;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const auto user = decode(authority.substr(0, at));
    if (!user) return fail("a badly encoded user name");
    t.user = *user;
    authority.remove_prefix(at + 1);
  }
  if (authority.empty()) return fail("no host");
  for (std::size_t start = 0;;) {
    const auto comma = authority.find(',', start);
    auto host = parse_host(authority.substr(start, comma - start), problem);
    if (!host) return std::nullopt;
    t.hosts.push_back(std::move(*host));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  const auto db = decode(path);
  if (!db || db->find('/') != std::string::npos) return fail("a badly encoded database name");
  t.dbname = *db;
  if (auto why = parse_query(t, query)) return fail(*why);
  if (auto why = check(t, unprivileged_start)) return fail(*why);
  return t;
}

namespace {

// The query with the value of any parameter that decodes to "password"
// replaced (however its name is encoded).
std::string redact_query(std::string_view uri) {
  const auto q = uri.find('?');
  if (q == std::string_view::npos) return std::string(uri);
  std::string out(uri.substr(0, q + 1));
  std::string_view query = uri.substr(q + 1);
  for (bool first = true; !query.empty() || first; first = false) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    const auto key = decode(pair.substr(0, eq));
    out += first ? "" : "&";
    out += key && *key == "password" && eq != std::string_view::npos ? std::string(pair.substr(0, eq)) + "=<redacted>"
                                                                       : std::string(pair);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

std::string redact_pg_uri(std::string_view text) {
  const std::string uri = redact_query(text);
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return uri;
  const std::size_t start = scheme_end + 3;
  const auto at = uri.rfind('@');
  if (at == std::string::npos || at < start) return uri;
  const auto colon = uri.find(':', start);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon) + ":<redacted>" + uri.substr(at);
}

std::string describe(const PgTarget& target) {
  std::string hosts;
  for (const auto& h : target.hosts) {
    const bool v6 = h.name.find(':') != std::string::npos;
    hosts += (hosts.empty() ? "" : ",") + (v6 ? "[" + h.name + "]" : h.name) + ":" + std::to_string(h.port);
  }
  return "postgresql://" + target.user + "@" + hosts + "/" + target.dbname;
}

}  // namespace otp::store
