// The one way this project includes toml++: compiled once (toml_impl.cc)
// instead of in every translation unit.
#pragma once

#define TOML_HEADER_ONLY 0
#define TOML_EXCEPTIONS 1
#define TOML_ENABLE_FORMATTERS 1
#include <toml++/toml.h>
