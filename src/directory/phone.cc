#include "directory/phone.h"

#include <phonenumbers/phonenumberutil.h>

#include <set>

namespace otp::directory {
namespace {

using i18n::phonenumbers::PhoneNumberUtil;

// Longer than any number with its punctuation: a value that is not one.
constexpr std::size_t kMaxTyped = 64;

const char* parse_problem(PhoneNumberUtil::ErrorType e) {
  switch (e) {
    case PhoneNumberUtil::NO_PARSING_ERROR:
      return "";
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return "has no country code, and no default_region says which";
    case PhoneNumberUtil::NOT_A_NUMBER:
      return "is not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return "is too short";
    case PhoneNumberUtil::TOO_LONG_NSN:
      return "is too long";
  }
  return "cannot be read";
}

// Only what people put between digits: libphonenumber would also read a
// number out of words ("call +1 ..."), letters as digits (1-800-FLOWERS)
// and drop an extension ("x 1234", ";ext=5", "#4"), sending the code to a
// switchboard. Such a value is left out for someone to fix.
bool plain_number(std::string_view typed) {
  constexpr auto npos = std::string_view::npos;
  if (typed.find_first_not_of("0123456789 +()-./") != npos) return false;
  // A '+' only first (after spaces or an opening parenthesis), once.
  const auto plus = typed.find('+');
  return plus == npos || (typed.find_first_not_of(" (") == plus && typed.find('+', plus + 1) == npos);
}

}  // namespace

PhoneNumber normalise_phone(std::string_view typed, const std::string& default_region) {
  if (typed.size() > kMaxTyped) return {"", "is too long to be a phone number"};
  if (!plain_number(typed))
    return {"", "has more than digits, spaces and + ( ) - . / (words, letters or an extension)"};
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  i18n::phonenumbers::PhoneNumber number;
  const auto error = util.Parse(std::string(typed), default_region.empty() ? "ZZ" : default_region, &number);
  if (error != PhoneNumberUtil::NO_PARSING_ERROR) return {"", parse_problem(error)};
  if (!util.IsValidNumber(number)) return {"", "is not a valid number (libphonenumber)"};
  PhoneNumber out;
  util.Format(number, PhoneNumberUtil::E164, &out.e164);
  return out;
}

bool known_region(const std::string& region) {
  std::set<std::string> regions;  // (libphonenumber's own list: "GB" is one, "UK" is not)
  PhoneNumberUtil::GetInstance()->GetSupportedRegions(&regions);
  return regions.count(region) != 0;
}

}  // namespace otp::directory
