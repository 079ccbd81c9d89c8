// Loading one of the module's plugins (pam_otp/http.so, pam_otp/pgstore.so):
// the one place that says how, and what a failure reads like.
#pragma once

#include <string>

namespace otp {

// The address of `symbol` in the library at `path`, or nullptr and `why`
// (naming the plugin as `what`, "the HTTP plugin"). RTLD_NODELETE: a name
// lookup of the plugin's may outlive its login in a detached thread whose
// code must stay mapped. RTLD_NOW: a symbol missing in any of the plugin's
// libraries (after a partial upgrade) fails the load, not the login half-way
// (a screen locker that dies may unlock the session); RTLD_LAZY would save
// ~0.3 ms per login (bench/README.md, Analysis).
void* load_plugin_symbol(const std::string& path, const char* symbol, const std::string& what, std::string& why);

}  // namespace otp
