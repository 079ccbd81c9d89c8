#include "http/plugin.h"

#include <dlfcn.h>

#include <mutex>
#include <utility>

namespace otp::http {
namespace {

class RefusingTransport final : public Transport {
 public:
  explicit RefusingTransport(std::string why) : why_(std::move(why)) {}
  Response perform(const Request& /*request*/) override {
    Response response;
    response.failure = Failure::Refused;
    response.error = why_;
    return response;
  }

 private:
  std::string why_;
};

// The entry point `symbol` of the plugin at `path`, or why there is none.
// RTLD_NODELETE because a DNS lookup of libcurl's may outlive the login in a
// detached thread whose code must stay mapped (curl_transport.cc). RTLD_NOW
// binds libcurl's libraries too, also those linked without -z now (Kerberos,
// LDAP, nghttp2): a symbol missing there after a partial upgrade fails the
// load, which refuses the login, instead of killing the process in the middle
// of it (a screen locker that dies may unlock the session). RTLD_LAZY would
// save ~0.3 ms per login (bench/README.md, Analysis).
PluginEntry open_plugin(const std::string& path, const char* symbol, std::string& why) {
  if (path.empty() || path.front() != '/') {
    why = "cannot find the HTTP plugin: the module's own path is unknown";
    return nullptr;
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* error = dlerror();
    why = "cannot load the HTTP plugin: " + std::string(error != nullptr ? error : path);
    return nullptr;
  }
  const auto entry = reinterpret_cast<PluginEntry>(dlsym(handle, symbol));
  if (entry == nullptr)
    why = "the HTTP plugin " + path + " is not from this build of pam_otp " PAM_OTP_VERSION
          " (no " + std::string(symbol) + "): after an upgrade, restart the program that loaded pam_otp";
  return entry;
}

// The entry point of the plugin at `path`, or why there is none. Loaded once
// per process.
PluginEntry load(const std::string& path, std::string& why) {
  static std::mutex mutex;
  static PluginEntry entry = nullptr;
  const std::lock_guard lock(mutex);
  if (entry == nullptr) entry = open_plugin(path, PAM_OTP_HTTP_PLUGIN_SYMBOL, why);
  return entry;
}

}  // namespace

std::unique_ptr<Transport> plugin_transport(const std::string& path, const TlsOptions& options) {
  std::string why;
  const PluginEntry entry = load(path, why);
  if (entry == nullptr) return std::make_unique<RefusingTransport>(why);
  std::unique_ptr<Transport> transport(entry(&options));
  if (!transport) return std::make_unique<RefusingTransport>("the HTTP plugin " + path + " cannot make a transport");
  return transport;
}

std::optional<std::string> plugin_problem(const std::string& path, const std::string& symbol) {
  std::string why;
  if (open_plugin(path, symbol.c_str(), why) != nullptr) return std::nullopt;
  return why;
}

}  // namespace otp::http
