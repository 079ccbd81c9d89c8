// No secret stays in the heap once pam_otp is done with it: this program
// links the core as the module does, loads a configuration whose API key,
// proxy password and secrets-file value are canaries, runs three whole
// logins (the requests built each time), destroys everything, and then
// reads every byte of the process's
// heap (the [heap] mapping and the anonymous ones malloc uses for arenas and
// large blocks), freed blocks and live ones alike, looking for the canaries.
// A freed block's first 16 bytes are overwritten by the allocator's own
// pointers, so each canary is looked for by a middle part too.
//
// A plain program, not Boost.Test. Exit status 0 when nothing was found;
// otherwise each finding is printed. The counts while the configuration is
// loaded are printed for information.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "base/base64.h"
#include "base/secret.h"
#include "config/loader.h"
#include "fakes.h"
#include "flow/login.h"
#include "temp_dir.h"

namespace {

// Kept out of the heap: the canaries live in read-only data, their
// patterns in these static buffers.
constexpr char kApiKey[] = "hEaPcAnArYaPiKeY7f3e9d1c2b4a5968Xq0Wz8Lm4Np2";
constexpr char kProxyPassword[] = "hEaPcAnArYpRoXyPaSs5d2e8f1a9c3b7Yt6Ur4";
constexpr char kExtraSecret[] = "hEaPcAnArYsEcReTfIlE3c9a2e7b5d1f8Kp0Qs7";
constexpr int kMaxPatterns = 12;
struct Pattern {
  char name[48];
  unsigned char bytes[96];
  std::size_t length;
};
Pattern g_patterns[kMaxPatterns];
int g_count = 0;

void add_pattern(const char* name, std::string_view bytes) {
  Pattern& p = g_patterns[g_count++];
  std::snprintf(p.name, sizeof p.name, "%s", name);
  p.length = std::min(bytes.size(), sizeof p.bytes);
  std::memcpy(p.bytes, bytes.data(), p.length);
}

// The canary, and its middle (a freed block may have lost its start).
void add_canary(const char* name, std::string_view text) {
  char middle[64];
  add_pattern(name, text);
  std::snprintf(middle, sizeof middle, "%s (middle)", name);
  add_pattern(middle, text.substr(16, 20));
}

struct Region {
  unsigned long start, end;
};

// The heap's mappings: [heap] and anonymous read-write ones (arenas and
// blocks malloc mapped on its own); never the stack or a file's.
int heap_regions(Region* out, int max) {
  static char maps[1 << 16];
  const int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::size_t size = 0;
  for (ssize_t n; (n = ::read(fd, maps + size, sizeof maps - 1 - size)) > 0;) size += static_cast<std::size_t>(n);
  ::close(fd);
  maps[size] = '\0';
  int count = 0;
  for (char* line = maps; line != nullptr && *line != '\0' && count < max;) {
    char* next = std::strchr(line, '\n');
    if (next != nullptr) *next++ = '\0';
    unsigned long start = 0, end = 0, offset = 0;
    char perms[8] = {0}, dev[16] = {0}, path[256] = {0};
    unsigned long inode = 0;
    const int fields = std::sscanf(line, "%lx-%lx %7s %lx %15s %lu %255s", &start, &end, perms, &offset, dev, &inode, path);
    const bool anonymous = fields == 6 || (fields == 7 && std::strcmp(path, "[heap]") == 0);
    if (fields >= 6 && perms[0] == 'r' && perms[1] == 'w' && anonymous) out[count++] = {start, end};
    line = next;
  }
  return count;
}

// How many times each pattern occurs in the heap; prints each place when `show`.
int scan(const char* when, bool show) {
  Region regions[512];
  const int n = heap_regions(regions, 512);
  int total = 0;
  for (int k = 0; k < g_count; ++k) {
    const Pattern& p = g_patterns[k];
    int found = 0;
    for (int r = 0; r < n; ++r) {
      const auto* begin = reinterpret_cast<const unsigned char*>(regions[r].start);
      const auto* end = reinterpret_cast<const unsigned char*>(regions[r].end);
      for (const unsigned char* at = begin; at + p.length <= end; ++at) {
        at = static_cast<const unsigned char*>(std::memchr(at, p.bytes[0], static_cast<std::size_t>(end - at)));
        if (at == nullptr || at + p.length > end) break;
        if (std::memcmp(at, p.bytes, p.length) != 0) continue;
        // Not our own pattern tables (static, outside the heap anyway).
        if (at >= reinterpret_cast<const unsigned char*>(g_patterns) &&
            at < reinterpret_cast<const unsigned char*>(g_patterns + kMaxPatterns))
          continue;
        ++found;
        if (show) std::printf("  %s: %s at %p\n", when, p.name, static_cast<const void*>(at));
      }
    }
    std::printf("%s: %-36s %d\n", when, p.name, found);
    total += found;
  }
  return total;
}

// Answers every request with 200 and keeps nothing of what it was sent.
class AnsweringTransport final : public otp::http::Transport {
 public:
  otp::http::Response perform(const otp::http::Request&) override { return otp::testing::json_response(200, "{}"); }
};

int login(const std::string& config_path) {
  otp::testing::FakeConversation conversation;
  conversation.say("123456");
  otp::testing::FakeClock clock;
  otp::testing::CollectingLogger log;
  otp::testing::FakeUserDirectory users;
  users.users["alice"] = {"users"};
  otp::flow::Services services{&conversation, clock, log, users, [](const otp::http::TlsOptions&) {
                                 return std::unique_ptr<otp::http::Transport>(new AnsweringTransport);
                               }};
  otp::flow::LoginRequest request{"alice", "sshd", "203.0.113.5", otp::Secret("alice-password-long-enough"),
                                  false, std::nullopt, std::nullopt, "", std::nullopt};
  return static_cast<int>(otp::flow::run_login({"config=" + config_path}, request, services));
}

}  // namespace

int main() {
  otp::testing::TempDir dir;
  const std::string users = dir.write("users", "alice phone=+15551234567\n", 0600);
  const std::string state = dir.path() + "/state/state.db";
  const std::string secrets_path = dir.path() + "/secrets.conf";
  {
    otp::Secret secrets("[provider.corp]\nextra = \"");
    secrets.mutable_value().append(kExtraSecret).append("\"\n");
    const int fd = ::open(secrets_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, secrets.c_str(), secrets.size()) != static_cast<ssize_t>(secrets.size())) return 2;
    ::close(fd);
  }
  const std::string config = dir.path() + "/pam_otp.conf";
  {
    // Built in memory that is wiped, so that the test leaves no copy itself.
    otp::Secret text("users_file = \"" + users + "\"\nstate_file = \"" + state + "\"\nsecrets_file = \"" +
                     secrets_path + "\"\nremember = 600\nproxy = \"http://corp:");
    text.mutable_value()
        .append(kProxyPassword)
        .append("@proxy.example:3128\"\n[provider.corp]\nbase_url = \"https://otp.example\"\napi_key = \"")
        .append(kApiKey)
        .append("\"\nauth = { scheme = \"bearer\", token = \"${api_key}\" }\n"
                "headers = { \"X-Extra\" = \"${extra}\" }\n"
                "[[provider.corp.send]]\nurl = \"/v1/otp/send\"\nbody = { to = \"${destination}\" }\n"
                "rules = [ { status = 200, outcome = \"sent\" } ]\n"
                "[[provider.corp.verify]]\nurl = \"/v1/otp/verify\"\n"
                "auth = { scheme = \"basic\", user = \"corp\", password = \"${api_key}\" }\n"
                "body = { code = \"${code}\" }\n"
                "rules = [ { status = 200, outcome = \"accepted\" } ]\n");
    const int fd = ::open(config.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, text.c_str(), text.size()) != static_cast<ssize_t>(text.size())) return 2;
    ::close(fd);
  }
  add_canary("API key", kApiKey);
  add_canary("proxy password", kProxyPassword);
  add_canary("secrets_file value", kExtraSecret);
  {
    const otp::Secret basic = otp::base64_encode_secret(std::string("corp:") + kApiKey);
    add_pattern("API key in Basic (base64)", basic.reveal().substr(8, 24));
  }
  int results[3] = {0, 0, 0};
  {
    otp::Problems problems;
    const auto loaded = otp::config::load({"config=" + config}, problems);
    if (!loaded) {
      for (const auto& p : problems.list()) std::printf("config: %s\n", p.to_string().c_str());
      return 2;
    }
    scan("while loaded", false);
  }
  for (int& result : results) result = login(config);
  std::printf("logins ended with %d, %d and %d\n", results[0], results[1], results[2]);
  const int after = scan("after", true);
  std::printf("%d copies of a secret left in the heap\n", after);
  return results[0] == 0 && results[1] == 0 && results[2] == 0 && after == 0 ? 0 : 1;
}
