#include "http/plugin.h"

#include <mutex>
#include <utility>

#include "base/plugin_loader.h"

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

PluginEntry open_plugin(const std::string& path, const char* symbol, std::string& why) {
  return reinterpret_cast<PluginEntry>(load_plugin_symbol(path, symbol, "the HTTP plugin", why));
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
