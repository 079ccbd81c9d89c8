// Small text helpers shared by every layer: trimming, making provider text
// safe for a terminal or a log, masking destinations.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace otp {

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
bool starts_with_ci(std::string_view s, std::string_view prefix);
bool equals_ci(std::string_view a, std::string_view b);

// Removes control characters (C0, DEL, C1), bidirectional formatting
// characters (U+202A-U+202E, U+2066-U+2069, marks) and replaces invalid
// UTF-8 with '?', so text from a provider cannot move the cursor, clear a
// terminal, reorder what is shown or forge a log line. Keeps at most
// max_bytes bytes, never splitting a character.
std::string sanitize(std::string_view s, std::size_t max_bytes = 512);

// "+15551234567" -> "+1******4567"; "alice@example.com" -> "a***@example.com".
// Anything else: first character and "***".
std::string mask_phone(std::string_view phone);
std::string mask_email(std::string_view email);
std::string mask_destination(std::string_view destination);
// Masks, inside free text (a provider's error message), everything shaped
// like an e-mail address and every run of 7 or more digits (a phone number
// in any format): "Invalid parameter To: +15551234567" -> "... To: +1******4567".
std::string mask_contacts(std::string_view s);
// A provider's free text as the user or the log may see it: sanitized,
// contacts masked, at most max_bytes long (masking can lengthen text, so the
// bound is applied after it).
std::string shown_text(std::string_view s, std::size_t max_bytes);

// A value for a key=value log line: sanitized, quoted when it holds spaces,
// quotes or '=' or is empty.
std::string log_value(std::string_view s);

// Is s well-formed UTF-8 (no overlong forms, no surrogates)?
bool is_utf8(std::string_view s);

// E.164: '+', a non-zero digit, then 6 to 14 more digits.
bool is_e164(std::string_view s);
// A plausible e-mail address: one '@', non-empty local part and a dotted domain, no spaces.
bool is_email(std::string_view s);

// The lines of `text`, split at '\n' (no empty line after a final '\n'):
// SSH_AUTH_INFO_0's "method [details]" lines, for one.
std::vector<std::string_view> split_lines(std::string_view text);

// Whether `list` holds `item` (a service in exempt_services, a group, ...).
bool listed(const std::vector<std::string>& list, std::string_view item);

}  // namespace otp
