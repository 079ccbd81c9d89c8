// For tests and fuzzers of the presets: the keys each preset requires, with
// plausible values, as an administrator's [provider.NAME] table would hold.
#pragma once

#include <map>
#include <string>

namespace otp::testing {

inline const std::map<std::string, std::string> kMinimalPresetTables = {
    {"stytch", "project_id = \"project-test-1\"\nsecret = \"s\"\n"},
    {"descope", "project_id = \"P2abc\"\n"},
    {"twilio_verify", "account_sid = \"AC1\"\nauth_token = \"t\"\nservice_sid = \"VA1\"\n"},
    {"privacyidea", "base_url = \"https://pi.example\"\n"},
    {"blockid", "base_url = \"https://blockid.example\"\ntenant_id = \"t\"\ncommunity_id = \"c\"\n"
                "license_key = \"l\"\ncommunity_public_key = \"k\"\n"},
    {"baanx", "client_key = \"k\"\n"},
};

}  // namespace otp::testing
