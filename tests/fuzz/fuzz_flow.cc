// Fuzzes a whole login (otp::flow::authenticate) against a provider and a
// user that both say whatever the input says. At start-up the example config
// (conf/pam_otp.conf, its [provider.mock] and all) is loaded once as shipped
// and once with module arguments that loosen it (failmode=safe, more
// attempts and resends, no cooldown, any code, channel=ask, debug). The input,
// read through FuzzedDataProvider as the login goes on, picks the variant,
// the user and PAM_AUTHTOK, then every HTTP answer (a transport failure, or a
// status, headers, a body and the time it took) and every answer the user
// types (EOF, empty, codes, very long text, control characters), and how
// far the fake clock moves. tests/fuzz/seeds.py writes seeds in this
// encoding.
//
// Invariants (abort on violation):
//   - the result is an AuthResult; Success only right after a verify request
//     whose answer the mock's rules call accepted (200, "status": "approved");
//     fail-closed: never Ignore with failmode secure; with failmode safe,
//     unavailable only once a code was sent or a provider failed TLS
//     verification (and Ignore only before that);
//   - no more verify requests than attempts, no more sends than 1 + resends,
//     no more prompts than 3 * attempts + resends + 1 (menu, codes, early
//     Enters, the password);
//   - every request body is valid UTF-8 and valid JSON, whatever the user
//     typed or the provider said; a verify body holds exactly the typed code;
//   - no log line holds a code the user typed or the api key "test-api-key"
//     (unless the provider's own answers said it first).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/text.h"
#include "config/loader.h"
#include "example_provider.h"
#include "fakes.h"
#include "flow/login.h"
#include "fuzz_check.h"
#include "temp_dir.h"

namespace {

using namespace otp;
using otp::testing::SeenRequest;

constexpr char kApiKey[] = "test-api-key";
// Typed answers holding this are secrets whatever code_pattern lets through.
constexpr char kCanary[] = "Zx7Q";
constexpr int kMaxPrompts = 400;  // far beyond the module's own bound, which check_login asserts

// ---- the configurations, loaded once ---------------------------------------

std::unique_ptr<config::Loaded> load(const std::vector<std::string>& args) {
  Problems problems;
  auto loaded = config::load(args, problems);
  if (!loaded) {
    for (const auto& p : problems.list()) std::fprintf(stderr, "%s\n", p.to_string().c_str());
    std::abort();
  }
  return loaded;
}

struct Setup {
  testing::TempDir dir;
  std::string users = dir.write("users",
                                "alice phone=+15551234567\n"
                                "carol phone=+447700900123 email=carol@example.com channel=ask\n"
                                "*     email=${user}@corp.example\n");
  // The shipped ca_file is the try-out provider's; the fuzzer's transport is a fake.
  std::string ca = "ca_file=" + dir.write("ca.pem", "not read: the transport is a fake\n");
  // The local state would carry one input's sends into the next (the send
  // limit); fuzz_store covers it. Off here, so each input runs alone.
  std::string state = "state_file=" + dir.path() + "/state/state.db";
  std::string no_limit = "send_limit={}";
  std::vector<std::unique_ptr<config::Loaded>> variants;

  Setup() {
    std::string text = testing::example_config();
    const std::string line = "users_file = \"/etc/security/pam_otp.users\"";
    const auto at = text.find(line);
    CHECK(at != std::string::npos);
    text.replace(at, line.size(), "users_file = \"" + users + "\"");
    const std::string path = dir.write("pam_otp.conf", text, 0600);
    variants.push_back(load({"config=" + path, ca, state, no_limit}));
    variants.push_back(load({"config=" + path, ca, state, no_limit, "failmode=safe", "attempts=5", "resends=2", "resend_cooldown=0",
                             "code_pattern=.", "channel=ask", "debug"}));
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

// ---- the provider ----------------------------------------------------------

std::string fuzz_text(FuzzedDataProvider& in, std::size_t max = 64) { return in.ConsumeRandomLengthString(max); }

Json::Value fuzz_value(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 6)) {
    case 0: return Json::Value(static_cast<Json::Int64>(in.ConsumeIntegral<int64_t>()));
    case 1: return Json::Value(static_cast<Json::UInt64>(in.ConsumeIntegral<uint64_t>()));
    case 2: return Json::Value(in.ConsumeFloatingPoint<double>());
    case 3: return Json::Value(fuzz_text(in));
    case 4: return Json::Value();
    case 5: return Json::Value(in.ConsumeBool());
    default: return Json::Value(in.ConsumeIntegralInRange(0, 3600));
  }
}

std::string body_of(FuzzedDataProvider& in) {
  Json::Value body(Json::objectValue);
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0: return fuzz_text(in, 512);  // anything at all, JSON or not
    case 1: return "";
    case 2:
      body["status"] = "sent";
      body["transaction_id"] = fuzz_value(in);
      body["masked_to"] = fuzz_value(in);
      body["request_id"] = fuzz_value(in);
      break;
    case 3:
      body["status"] = "approved";
      body["request_id"] = fuzz_value(in);
      break;
    case 4: body["error"] = "wrong_code"; break;
    case 5: {
      static const char* const kErrors[] = {"unknown_user", "unknown_transaction", "locked", "expired"};
      body["error"] = kErrors[in.ConsumeIntegralInRange(0, 3)];
      body["message"] = fuzz_value(in);
      body["retry_after"] = fuzz_value(in);
      break;
    }
    case 6: body["status"] = fuzz_value(in); break;
    default: {
      const std::string name = fuzz_text(in, 16);
      body[name] = fuzz_value(in);
      break;
    }
  }
  return json::to_string(body);
}

http::Response answer_of(FuzzedDataProvider& in) {
  http::Response r;
  r.elapsed = std::chrono::milliseconds(500 * in.ConsumeIntegralInRange(0, 255));
  if (in.ConsumeIntegralInRange(0, 15) == 0) {
    static const http::Failure kFailures[] = {http::Failure::Connect,  http::Failure::Timeout,
                                              http::Failure::TooLarge, http::Failure::Protocol,
                                              http::Failure::Refused,  http::Failure::Untrusted};
    r.failure = kFailures[in.ConsumeIntegralInRange(0, 5)];
    r.error = fuzz_text(in);
    return r;
  }
  static const long kStatuses[] = {200, 200, 200, 201, 401, 404, 410, 422, 423, 429, 500, 503};
  const int pick = in.ConsumeIntegralInRange(0, 12);
  r.status = pick < 12 ? kStatuses[pick] : in.ConsumeIntegralInRange<long>(100, 599);
  for (int n = in.ConsumeIntegralInRange(0, 2); n > 0; --n) {
    static const char* const kNames[] = {"retry-after", "x-request-id"};
    const int name = in.ConsumeIntegralInRange(0, 2);
    const std::string key = name < 2 ? kNames[name] : to_lower(fuzz_text(in, 16));
    r.headers.emplace_back(key, fuzz_text(in));
  }
  r.body = body_of(in);
  return r;
}

// ---- the user --------------------------------------------------------------

class FuzzConversation final : public flow::Conversation {
 public:
  FuzzConversation(FuzzedDataProvider& in, testing::FakeClock& clock) : in_(in), clock_(clock) {}
  std::vector<std::string> typed;
  int prompts() const { return prompts_; }

  std::optional<Secret> ask(std::string_view, bool) override {
    if (++prompts_ > kMaxPrompts) return std::nullopt;
    clock_.advance(std::chrono::seconds(in_.ConsumeIntegralInRange(0, 64)));
    auto answer = next();
    if (answer) typed.push_back(*answer);
    return answer ? std::optional<Secret>(Secret(*answer)) : std::nullopt;
  }
  void info(std::string_view) override {}
  void error(std::string_view) override {}

 private:
  std::optional<std::string> next() {
    switch (in_.ConsumeIntegralInRange(0, 9)) {
      case 0: return std::nullopt;  // EOF, Ctrl-D
      case 1: return "";            // Enter: a new code, please
      case 2: return digits(6);
      case 3: return "9" + digits(9);  // long enough to look for in the log
      case 4: return fuzz_text(in_);
      case 5: return std::string(in_.ConsumeIntegralInRange<std::size_t>(257, 100000), '7');
      case 6: {  // a code wrapped in control characters
        static const std::string kControls[] = {"\r\n", "\t", "\x1b[2J", std::string(1, '\0'), "\x7f", "\x03"};
        const std::string& c = kControls[in_.ConsumeIntegralInRange(0, 5)];
        return c + digits(6) + c;
      }
      case 7: return std::to_string(in_.ConsumeIntegralInRange(0, 5));  // a menu choice
      case 8: return "  " + digits(8) + " \n";
      default: {
        const std::string before = fuzz_text(in_, 16);
        return before + kCanary + fuzz_text(in_, 16);
      }
    }
  }
  std::string digits(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += static_cast<char>('0' + in_.ConsumeIntegralInRange(0, 9));
    return out;
  }

  FuzzedDataProvider& in_;
  testing::FakeClock& clock_;
  int prompts_ = 0;
};

// ---- the invariants --------------------------------------------------------

struct Exchange {
  SeenRequest request;
  http::Response response;
};

bool is_verify(const SeenRequest& r) { return r.url.find("/v1/otp/verify") != std::string::npos; }
bool is_send(const SeenRequest& r) { return r.url.find("/v1/otp/send") != std::string::npos; }

// What the mock's rules call sent at send: 200, "status": "sent", a transaction_id.
bool sent(const http::Response& r) {
  if (r.failure != http::Failure::None || r.status != 200) return false;
  const auto doc = json::parse(r.body);
  return doc && doc->isObject() && (*doc)["status"].isString() && (*doc)["status"].asString() == "sent" &&
         doc->isMember("transaction_id") && !(*doc)["transaction_id"].isNull();
}

// What the mock's rules call accepted at verify: 200 with "status": "approved".
bool accepted(const http::Response& r) {
  if (r.failure != http::Failure::None || r.status != 200) return false;
  const auto doc = json::parse(r.body);
  return doc && doc->isObject() && (*doc)["status"].isString() && (*doc)["status"].asString() == "approved";
}

void add_strings(const Json::Value& v, std::string& out) {
  out += sanitize(json::as_text(v), std::string::npos) + "\n";
  if (v.isObject())
    for (const auto& name : v.getMemberNames()) out += sanitize(name, std::string::npos) + "\n";
  if (v.isObject() || v.isArray())
    for (const auto& child : v) add_strings(child, out);
}

// Everything the provider said, as it may reach the log (sanitized).
std::string provider_text(const std::vector<Exchange>& exchanges) {
  std::string out;
  for (const auto& e : exchanges) {
    out += sanitize(e.response.error, std::string::npos) + "\n" + sanitize(e.response.body, std::string::npos) + "\n";
    for (const auto& [name, value] : e.response.headers) out += sanitize(value, std::string::npos) + "\n";
    if (const auto doc = json::parse(e.response.body)) add_strings(*doc, out);
  }
  return out;
}

// The log without "retry after N s": N is the module's own arithmetic on the
// provider's date, so any number may legitimately appear there.
std::string log_without_waits(const std::string& log) {
  std::string out = log;
  const std::string mark = "retry after ";
  for (auto at = out.find(mark); at != std::string::npos; at = out.find(mark, at)) {
    auto end = at + mark.size();
    while (end < out.size() && out[end] >= '0' && out[end] <= '9') ++end;
    out.erase(at, end - at);
  }
  return out;
}

bool all_digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

void check_secrets(const std::string& log, const std::string& said, const std::vector<std::string>& typed) {
  const std::string plain_log = log_without_waits(log);
  if (said.find(kApiKey) == std::string::npos) CHECK(log.find(kApiKey) == std::string::npos);
  if (said.find(kCanary) == std::string::npos) CHECK(log.find(kCanary) == std::string::npos);
  for (const auto& answer : typed) {
    const std::string code(trim(answer).substr(0, 256));
    if (code.size() >= 8 && all_digits(code) && said.find(code) == std::string::npos)
      CHECK(plain_log.find(code) == std::string::npos);
  }
}

void check_login(flow::AuthResult result, const config::Config& cfg, const std::vector<Exchange>& exchanges,
                 const std::vector<std::string>& typed, int prompts, const testing::CollectingLogger& log) {
  CHECK(!flow::result_name(result).empty() && flow::result_name(result) != "?");
  int verifies = 0, sends = 0;
  bool code_sent = false, untrusted = false;
  for (const auto& e : exchanges) {
    CHECK(is_utf8(e.request.body));
    CHECK(e.request.body.empty() || json::parse(e.request.body).has_value());
    untrusted = untrusted || e.response.failure == http::Failure::Untrusted;
    if (is_send(e.request)) {
      ++sends;
      code_sent = code_sent || sent(e.response);
    }
    if (!is_verify(e.request)) continue;
    ++verifies;
    // The code is data: whatever was typed, the body is JSON holding it as is.
    const auto body = json::parse(e.request.body);
    CHECK(body && body->isObject() && body->size() == 2 && (*body)["code"].isString());
    const std::string code = (*body)["code"].asString();
    bool was_typed = false;
    for (const auto& answer : typed) was_typed = was_typed || std::string(trim(answer).substr(0, 256)) == code;
    CHECK(was_typed);
  }
  CHECK(verifies <= cfg.attempts);
  CHECK(sends <= 1 + cfg.resends);
  CHECK(prompts <= 3 * cfg.attempts + cfg.resends + 1);
  if (result == flow::AuthResult::Success)
    CHECK(!exchanges.empty() && is_verify(exchanges.back().request) && accepted(exchanges.back().response));
  if (cfg.failmode == config::FailMode::Secure) CHECK(result != flow::AuthResult::Ignore);
  else if (result == flow::AuthResult::AuthInfoUnavail) CHECK(code_sent || untrusted);
  else if (result == flow::AuthResult::Ignore) CHECK(!code_sent && !untrusted);
  CHECK(!log.lines.empty() && log.lines.back().second.rfind("result=", 0) == 0);
  check_secrets(log.all(), provider_text(exchanges), typed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Setup& s = setup();
  FuzzedDataProvider in(data, size);
  const config::Loaded& loaded = *s.variants[in.ConsumeIntegralInRange<std::size_t>(0, s.variants.size() - 1)];

  static const char* const kUsers[] = {"alice", "carol", "dave", "nobody"};
  flow::LoginRequest request{kUsers[in.ConsumeIntegralInRange(0, 3)], "sshd", "203.0.113.5", std::nullopt, false,
                             std::nullopt, std::nullopt, "", std::nullopt};
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0: request.authtok = Secret("hunter2"); break;
    case 1: {  // OpenSSH's failed-password marker, cut to some length
      const std::string junk = "\b\n\r\177INCORRECT";
      std::string marker;
      for (int i = in.ConsumeIntegralInRange(1, 40); i > 0; --i) marker += junk[marker.size() % junk.size()];
      request.authtok = Secret(marker);
      break;
    }
    case 2: request.authtok = Secret(""); break;
    case 3: request.authtok = Secret("246810"); break;  // a password the user may also type as a code
    default: break;
  }
  request.silent = in.ConsumeBool();

  testing::FakeClock clock;
  testing::CollectingLogger log;
  testing::FakeUserDirectory directory;
  for (const char* user : {"alice", "carol", "dave"}) directory.users[user] = {"users"};
  FuzzConversation conversation(in, clock);
  std::vector<Exchange> exchanges;
  flow::Services services{&conversation, clock, log, directory, [&](const http::TlsOptions&) {
                            return std::make_unique<testing::FakeTransport>([&](const SeenRequest& r) {
                              exchanges.push_back({r, answer_of(in)});
                              return exchanges.back().response;
                            });
                          }};
  const flow::AuthResult result = flow::authenticate(loaded, request, services);
  // PAM_OTP_FUZZ_VERBOSE=1 fuzz_flow FILE shows what an input does.
  static const bool verbose = std::getenv("PAM_OTP_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    for (const auto& e : exchanges)
      std::fprintf(stderr, "%s %s -> %ld %s\n", e.request.method.c_str(), e.request.url.c_str(), e.response.status,
                   e.response.body.c_str());
    std::fprintf(stderr, "%s%s\n", log.all().c_str(), std::string(flow::result_name(result)).c_str());
  }
  check_login(result, loaded.config, exchanges, conversation.typed, conversation.prompts(), log);
  return 0;
}
