// No freed heap block may still hold a secret: this program replaces
// malloc and free (every operator new and delete ends there), runs a whole
// login with a canary API key from the config through the real libcurl
// transport (to a port where nothing listens, so the request is built, its
// header list made and handed to libcurl, and nothing is sent), and checks
// every block freed meanwhile for the canary, in clear or as it is encoded
// on the way (Bearer, base64 of Basic). Copies inside libcurl and OpenSSL
// are a documented limit; the connection is refused before libcurl builds
// the request text.
//
// A plain program, not Boost.Test: it owns the allocator. Exit status 0 when
// no freed block held a canary; otherwise each offending free is printed
// (with a backtrace when PAM_OTP_FREED_SECRETS_TRACE=1).
#include <execinfo.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/base64.h"
#include "config/loader.h"
#include "fakes.h"
#include "flow/login.h"
#include "http/curl_transport.h"
#include "temp_dir.h"

extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {

constexpr char kCanary[] = "pAmOtPcAnArYkEy7f3e9d1c2b4a5968Xq";  // the API key: 33 bytes, never on the stack alone
constexpr int kPatterns = 3;
char g_patterns[kPatterns][128];
std::size_t g_lengths[kPatterns];
std::atomic<bool> g_tracking{false};
std::atomic<int> g_found{0};
thread_local bool t_inside = false;  // our own reporting allocates

bool holds(const char* p, std::size_t n, const char* pattern, std::size_t len) {
  if (len == 0 || n < len) return false;
  for (std::size_t i = 0; i + len <= n; ++i)
    if (p[i] == pattern[0] && std::memcmp(p + i, pattern, len) == 0) return true;
  return false;
}

void check_block(void* p) {
  if (p == nullptr || !g_tracking.load(std::memory_order_relaxed) || t_inside) return;
  const std::size_t n = malloc_usable_size(p);
  for (int k = 0; k < kPatterns; ++k) {
    if (!holds(static_cast<const char*>(p), n, g_patterns[k], g_lengths[k])) continue;
    t_inside = true;
    ++g_found;
    char line[160];
    const int len = std::snprintf(line, sizeof line, "freed block of %zu bytes holds secret form %d\n", n, k);
    (void)!::write(2, line, static_cast<std::size_t>(len));
    if (std::getenv("PAM_OTP_FREED_SECRETS_TRACE") != nullptr) {
      void* frames[32];
      backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
    }
    t_inside = false;
    return;
  }
}

}  // namespace

extern "C" {
void* malloc(size_t n) { return __libc_malloc(n); }
void* calloc(size_t a, size_t b) { return __libc_calloc(a, b); }
void* memalign(size_t a, size_t n) { return __libc_memalign(a, n); }
void* aligned_alloc(size_t a, size_t n) { return __libc_memalign(a, n); }
int posix_memalign(void** out, size_t a, size_t n) {
  *out = __libc_memalign(a, n);
  return *out != nullptr ? 0 : ENOMEM;
}
void free(void* p) {
  check_block(p);
  __libc_free(p);
}
// Moving a block frees the old one: check it first, as free() would.
void* realloc(void* p, size_t n) {
  if (p == nullptr) return __libc_malloc(n);
  void* q = __libc_malloc(n);
  if (q == nullptr) return nullptr;
  std::memcpy(q, p, std::min(n, malloc_usable_size(p)));
  free(p);
  return q;
}
}

namespace {

void set_pattern(int k, const std::string& text) {
  std::snprintf(g_patterns[k], sizeof g_patterns[k], "%s", text.c_str());
  g_lengths[k] = std::strlen(g_patterns[k]);
}

// Answers every request with 200 and looks at nothing but the URL: unlike
// the tests' FakeTransport it keeps no copy of what it was sent.
class AnsweringTransport final : public otp::http::Transport {
 public:
  otp::http::Response perform(const otp::http::Request&) override {
    return otp::testing::json_response(200, "{}");
  }
};

// A whole login: through the answering transport (send and verify, both
// headers built), or through libcurl to a port where nothing listens (the
// send's header list handed to libcurl, then refused).
int run_login(const std::string& config_path, bool real_transport) {
  otp::testing::FakeConversation conversation;
  conversation.say("123456");
  otp::testing::FakeClock clock;
  otp::testing::CollectingLogger log;
  otp::testing::FakeUserDirectory users;
  users.users["alice"] = {"users"};
  otp::flow::TransportFactory answering = [](const otp::http::TlsOptions&) {
    return std::unique_ptr<otp::http::Transport>(new AnsweringTransport);
  };
  otp::flow::Services services{&conversation, clock, log, users,
                               real_transport ? otp::flow::TransportFactory(otp::http::make_curl_transport) : answering};
  otp::flow::LoginRequest request{"alice", "sshd", "203.0.113.5", otp::Secret("alice-password-long-enough"), false,
                                  std::nullopt, std::nullopt, "", std::nullopt};
  const auto result = otp::flow::run_login({"config=" + config_path}, request, services);
  return static_cast<int>(result);
}

}  // namespace

int main() {
  otp::testing::TempDir dir;
  const std::string users = dir.write("users", "alice phone=+15551234567\n", 0600);
  // The key reaches the Authorization header as "Bearer <key>" (a header
  // value), and a second provider key carries it through a template into a
  // Basic header (base64) of the verify step.
  const std::string config = dir.write("pam_otp.conf",
      "users_file = \"" + users + "\"\nstate_file = \"" + dir.path() + "/state/state.db\"\n"
      "timeout = 2\nconnect_timeout = 1\n"
      "[provider.corp]\nbase_url = \"https://127.0.0.1:1\"\n"
      "api_key = \"" + std::string(kCanary) + "\"\n"
      "auth = { scheme = \"bearer\", token = \"${api_key}\" }\n"
      "headers = { \"X-Api-Key\" = \"k-${api_key}\" }\n"
      "rules = [ { status = \"5xx\", outcome = \"retry\" } ]\n"
      "[[provider.corp.send]]\nurl = \"/v1/otp/send\"\n"
      "body = { user = \"${user}\", to = \"${destination}\" }\n"
      "rules = [ { status = 200, outcome = \"sent\" } ]\n"
      "[[provider.corp.verify]]\nurl = \"/v1/otp/verify\"\n"
      "auth = { scheme = \"basic\", user = \"corp\", password = \"${api_key}\" }\n"
      "body = { code = \"${code}\" }\n"
      "rules = [ { status = 200, outcome = \"accepted\" } ]\n",
      0600);
  set_pattern(0, kCanary);
  set_pattern(1, otp::base64_encode(std::string("corp:") + kCanary).substr(8, 24));
  set_pattern(2, "alice-password-long-enough");
  g_tracking = true;
  const int answered = run_login(config, false);
  const int refused = run_login(config, true);
  g_tracking = false;
  std::printf("logins ended with results %d (answered) and %d (refused); %d freed blocks held a secret\n", answered,
              refused, g_found.load());
  return g_found.load() == 0 ? 0 : 1;
}
