// Module arguments: "config=PATH", "debug", and KEY=VALUE for any top-level
// config key, read with the same TOML grammar as the file (attempts=5 is an
// integer, echo_code=true a boolean, a bare word a string).
#pragma once

#include <string>
#include <vector>

#include "base/problem.h"
#include "base/toml_util.h"

namespace otp::config {

struct ModuleArgs {
  std::string config_path;
  bool debug = false;
  std::vector<toml::table> overrides;  // one small document per argument
};

ModuleArgs parse_module_args(const std::vector<std::string>& args, const std::string& default_config,
                             Problems& problems);

}  // namespace otp::config
