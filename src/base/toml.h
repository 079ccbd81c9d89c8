// The one way this project includes toml++: compiled once (toml_impl.cc)
// instead of in every translation unit.
#pragma once

#define TOML_HEADER_ONLY 0
// toml++ 3.3.0 asserts, and so aborts debug builds, on a malformed table
// header such as "[=" or "[" at the end of a line (fixed upstream in
// marzer/tomlplusplus#301); with its assertions compiled out, as in release
// builds, it reports a syntax error. A bad config must be an error in every build.
#define TOML_ASSERT(expr) static_assert(true)
#define TOML_EXCEPTIONS 1
#define TOML_ENABLE_FORMATTERS 1
#include <toml++/toml.h>
