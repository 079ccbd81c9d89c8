// Loading everything a login needs: module arguments, the config file, the
// secrets file, the provider description (with its preset) and the users
// file, with every problem located by file, line and key.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/problem.h"
#include "config/config.h"
#include "config/users_file.h"

namespace otp::config {

struct Loaded {
  Config config;
  UsersFile users;
};

// nullptr when there is any error; problems holds all of them.
std::unique_ptr<Loaded> load(const std::vector<std::string>& module_args, Problems& problems);

// The path used when no config=PATH argument is given.
std::string default_config_path();

}  // namespace otp::config
