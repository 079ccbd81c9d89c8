#include "directory/plugin.h"

#include <mutex>

#include "base/plugin_loader.h"

namespace otp::directory {
namespace {

PluginEntry open_plugin(const std::string& path, const char* symbol, std::string& why) {
  return reinterpret_cast<PluginEntry>(load_plugin_symbol(path, symbol, "the directory's plugin", why));
}

PluginEntry load(const std::string& path, std::string& why) {
  static std::mutex mutex;
  static PluginEntry entry = nullptr;
  const std::lock_guard lock(mutex);
  if (entry == nullptr) entry = open_plugin(path, PAM_OTP_DIRECTORY_PLUGIN_SYMBOL, why);
  return entry;
}

}  // namespace

Answer plugin_lookup(const std::string& path, const LookupOptions& options, const std::string& user,
                     Clock::time_point deadline) {
  std::string why;
  const PluginEntry entry = load(path, why);
  if (entry == nullptr) throw Unavailable(why, Failure::Local);
  Answer answer;
  Failure failure = Failure::Local;
  const auto deadline_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  if (!entry(&options, &user, deadline_ns, &answer, &why, &failure)) throw Unavailable(why, failure);
  return answer;
}

std::optional<std::string> plugin_problem(const std::string& path, const std::string& symbol) {
  std::string why;
  if (open_plugin(path, symbol.c_str(), why) != nullptr) return std::nullopt;
  return why;
}

}  // namespace otp::directory
