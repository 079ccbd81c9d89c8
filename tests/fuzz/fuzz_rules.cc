// Fuzzes the outcome rules (provider/rules.cc) with the rules that ship: every
// built-in preset's, step by step in the order the client tries them
// (rules_first, the step's rules, rules), and the example config's generic
// provider. The input (through FuzzedDataProvider) is an HTTP answer: a
// status (100-599), a few headers (Retry-After among them), JSON Pointers,
// the time, and the body, parsed with otp::json::parse as the client does.
// Also exercises parse_retry_after and json::resolve directly.
//
// Invariants: the winning rule matches and no earlier one does; only
// locked / rate_limited carry a wait, never negative; reasons are sanitized
// and short; "sent" and "accepted" need a 2xx status; resolve agrees with
// valid_pointer.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/text.h"
#include "base/toml_util.h"
#include "example_provider.h"
#include "fuzz_check.h"
#include "preset_tables.h"
#include "provider/presets.h"
#include "provider/rules.h"
#include "provider/spec_loader.h"

namespace {

using namespace otp::provider;

const auto& kMinimalTables = otp::testing::kMinimalPresetTables;

// Loads [provider.NAME] from a TOML document; aborts when it does not load:
// a shipped description that fails is a bug of its own.
ProviderSpec load(const std::string& toml_text, const std::string& name) {
  otp::Problems problems;
  auto doc = otp::tomlu::parse(toml_text, "fuzz.conf", problems);
  std::optional<ProviderSpec> spec;
  if (doc) spec = load_provider(name, std::move(*(*doc)["provider"][name].as_table()), problems, "fuzz.conf");
  if (!spec) {
    for (const auto& p : problems.list()) std::fprintf(stderr, "%s\n", p.to_string().c_str());
    std::abort();
  }
  return std::move(*spec);
}

// Every rule list sequence the client may try: one per step of each provider.
struct Catalogue {
  std::vector<std::unique_ptr<ProviderSpec>> specs;
  std::vector<std::vector<const std::vector<Rule>*>> sequences;

  Catalogue() {
    for (const auto& preset : builtin_presets()) {
      const std::string name(preset.name);
      const auto keys = kMinimalTables.find(name);
      CHECK(keys != kMinimalTables.end());  // a new preset: add its keys above
      add(load("[provider.x]\npreset = \"" + name + "\"\n" + keys->second, "x"));
    }
    add(load(otp::testing::mock_provider_toml("\"https://otp.example\""), "mock"));
  }
  void add(ProviderSpec spec) {
    specs.push_back(std::make_unique<ProviderSpec>(std::move(spec)));
    const ProviderSpec& s = *specs.back();
    for (const auto* steps : {&s.send, &s.verify})
      for (const auto& step : *steps) sequences.push_back({&s.rules_first, &step.rules, &s.rules});
  }
};

const Catalogue& catalogue() {
  static const Catalogue c;
  return c;
}

void check_classification(const std::vector<const std::vector<Rule>*>& lists, const Answer& answer,
                          std::chrono::system_clock::time_point now) {
  const auto c = classify(lists, answer, now);
  bool earlier = true;  // rules before the winner must not match
  for (const auto* list : lists) {
    for (const auto& rule : *list) {
      if (c && &rule == c->rule) earlier = false;
      if (earlier) CHECK(!matches(rule, answer));
    }
  }
  if (!c) return;
  CHECK(!earlier);  // the winner is one of the rules given
  CHECK(matches(*c->rule, answer));
  CHECK(c->outcome == c->rule->outcome && c->outcome != Outcome::Unavailable);
  CHECK(c->reason.size() <= 200 && otp::sanitize(c->reason, 200) == c->reason);
  if (c->retry_after) CHECK(*c->retry_after >= 0);
  if (c->outcome != Outcome::Locked && c->outcome != Outcome::RateLimited) CHECK(!c->retry_after);
  if (c->outcome == Outcome::Accepted || c->outcome == Outcome::Sent) CHECK(answer.status >= 200 && answer.status <= 299);
}

void check_retry_after(const std::string& value, std::chrono::system_clock::time_point now) {
  const auto seconds = parse_retry_after(value, now);
  if (seconds) CHECK(*seconds >= 0);
  const auto text = otp::trim(value);
  if (!text.empty() && text.size() <= 9 && text.find_first_not_of("0123456789") == std::string_view::npos)
    CHECK(seconds && *seconds == std::stol(std::string(text)));
}

void check_pointer(const Json::Value& doc, const std::string& pointer) {
  const Json::Value* v = otp::json::resolve(doc, pointer);
  if (!otp::json::valid_pointer(pointer)) CHECK(v == nullptr);
  if (pointer.empty()) CHECK(v == &doc);
  if (v != nullptr) (void)otp::json::as_text(*v);  // ASan: it points into doc
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Catalogue& rules = catalogue();

  const long status = in.ConsumeIntegralInRange<long>(100, 599);
  std::vector<std::pair<std::string, std::string>> headers;
  for (int n = in.ConsumeIntegralInRange(0, 4); n > 0; --n) {
    static const char* const kNames[] = {"retry-after", "Retry-After", "content-type", "x-request-id"};
    const int pick = in.ConsumeIntegralInRange(0, 4);
    std::string name = pick < 4 ? kNames[pick] : in.ConsumeRandomLengthString(32);
    headers.emplace_back(std::move(name), in.ConsumeRandomLengthString(256));
  }
  std::vector<std::string> pointers;
  for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n) pointers.push_back(in.ConsumeRandomLengthString(64));
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(in.ConsumeIntegral<uint32_t>()));
  const std::string body = in.ConsumeRemainingBytesAsString();

  for (const auto& [name, value] : headers) check_retry_after(value, now);

  // As the client does: an empty body is no JSON; another non-JSON body is
  // never classified (the client stops before the rules).
  std::optional<Json::Value> doc;
  if (!otp::trim(body).empty()) {
    doc = otp::json::parse(body);
    if (!doc) return 0;
  }
  const Answer answer{status, &headers, doc ? &*doc : nullptr};
  for (const auto& lists : rules.sequences) check_classification(lists, answer, now);
  if (doc) {
    for (const auto& pointer : pointers) check_pointer(*doc, pointer);
    check_pointer(*doc, "");
  }
  return 0;
}
