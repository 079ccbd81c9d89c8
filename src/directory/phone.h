// A phone number as a directory holds it ("+1 (555) 123-4567",
// "0044 20 7946 0958", "202-555-0143"), made E.164 with libphonenumber (the
// library Android and most telephony software use), or refused with why:
// a number that is not a valid one is never sent to a provider.
// docs/design.md, "Destinations from the directory".
#pragma once

#include <string>
#include <string_view>

namespace otp::directory {

struct PhoneNumber {
  std::string e164;     // "+12025550143"; empty when refused
  std::string problem;  // why it was refused ("not a valid number for any region", ...)
};

// `typed` read as a person dialling in `default_region` would (an ISO
// 3166 code, "US", "DE"; "" for none: then only numbers written with
// their country code are understood), kept only when libphonenumber calls
// it a valid number.
PhoneNumber normalise_phone(std::string_view typed, const std::string& default_region);

// Whether libphonenumber knows `region` ("GB": yes, "UK": no).
bool known_region(const std::string& region);

}  // namespace otp::directory
