// The [directory] table and the destinations key of pam_otp.conf: read and
// checked (each problem with its file and line), and shown by pam-otp show.
// docs/design.md, "Destinations from the directory".
#pragma once

#include <string_view>

#include "base/toml_util.h"
#include "config/config.h"

namespace otp::config {

void apply_directory(const toml::table& doc, Config& c, tomlu::TomlReader& g, std::string_view key);
void show_directory(const Config& c, toml::table& out, std::string_view key);

// After [directory]: the sources in order; by default the users file, then
// the directory when one is configured.
void apply_destinations(const toml::table& doc, Config& c, tomlu::TomlReader& g, std::string_view key);

// The files [directory] names, read with the config's rules: the bind
// password (a secret file) and the CA and client certificate files.
void load_directory_files(const toml::table& doc, Config& c, tomlu::TomlReader& g);

}  // namespace otp::config
