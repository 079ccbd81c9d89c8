#include "base/plugin_loader.h"

#include <dlfcn.h>

namespace otp {

void* load_plugin_symbol(const std::string& path, const char* symbol, const std::string& what, std::string& why) {
  if (path.empty() || path.front() != '/') {
    why = "cannot find " + what + ": the module's own path is unknown";
    return nullptr;
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* error = dlerror();
    why = "cannot load " + what + ": " + std::string(error != nullptr ? error : path);
    return nullptr;
  }
  void* entry = dlsym(handle, symbol);
  if (entry == nullptr)
    why = what + " " + path + " is not from this build of pam_otp " PAM_OTP_VERSION " (no " + std::string(symbol) +
          "): after an upgrade, restart the program that loaded pam_otp";
  return entry;
}

}  // namespace otp
