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

// The plugin at `path` opened, and its entry point, or why there is none.
// RTLD_NODELETE because a DNS lookup of libcurl's may outlive the login in a
// detached thread whose code must stay mapped (curl_transport.cc).
// RTLD_LAZY binds lazily only the libraries linked without -z now (Kerberos,
// librtmp, nghttp2, ...), as when a program links libcurl: the plugin itself,
// libcurl, OpenSSL and GnuTLS are linked with -z now and are bound in full
// here, so a plugin that lacks a symbol still fails to load. Saves ~0.3 ms
// per login (bench/README.md, Analysis).
PluginCheck open_plugin(const std::string& path, PluginEntry& entry) {
  PluginCheck check;
  if (path.empty() || path.front() != '/') {
    check.why = "cannot find the HTTP plugin: the module's own path is unknown";
    return check;
  }
  void* handle = dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* error = dlerror();
    check.why = "cannot load the HTTP plugin: " + std::string(error != nullptr ? error : path);
    return check;
  }
  check.loads = true;
  entry = reinterpret_cast<PluginEntry>(dlsym(handle, PAM_OTP_HTTP_PLUGIN_SYMBOL));
  check.this_build = entry != nullptr;
  if (entry == nullptr)
    check.why = "the HTTP plugin " + path + " is not from this build of pam_otp " PAM_OTP_VERSION
                " (no " PAM_OTP_HTTP_PLUGIN_SYMBOL "): after an upgrade, restart the program that loaded pam_otp";
  return check;
}

// The entry point of the plugin at `path`, or why there is none. Loaded once
// per process.
PluginEntry load(const std::string& path, std::string& why) {
  static std::mutex mutex;
  static PluginEntry entry = nullptr;
  const std::lock_guard lock(mutex);
  if (entry == nullptr) why = open_plugin(path, entry).why;
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

PluginCheck check_plugin(const std::string& path) {
  PluginEntry entry = nullptr;
  return open_plugin(path, entry);
}

}  // namespace otp::http
