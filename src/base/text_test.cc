#include "base/text.h"

#include <boost/test/unit_test.hpp>

#include "base/secret.h"

using namespace otp;

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(trims_whitespace) {
  BOOST_TEST(trim("  123456 \t\r\n") == "123456");
  BOOST_TEST(trim("   ") == "");
}

BOOST_AUTO_TEST_CASE(sanitize_strips_terminal_controls) {
  BOOST_TEST(sanitize("Wrong\x1b[2J code\x07") == "Wrong[2J code");
  BOOST_TEST(sanitize("tab\tnew\nline") == "tab new line");
  BOOST_TEST(sanitize("del\x7f") == "del");
  // C1 control U+009B (CSI) encoded in UTF-8 is dropped like a C0 one.
  BOOST_TEST(sanitize("a\xc2\x9b" "b") == "ab");
}

BOOST_AUTO_TEST_CASE(sanitize_keeps_utf8_and_replaces_invalid_bytes) {
  BOOST_TEST(sanitize("Code envoyé à été") == "Code envoyé à été");
  BOOST_TEST(sanitize("bad\xff\xfe") == "bad??");
  BOOST_TEST(sanitize("\xe2\x82") == "??");  // truncated sequence
}

BOOST_AUTO_TEST_CASE(sanitize_never_splits_a_character) {
  BOOST_TEST(sanitize("ééé", 3) == "é");
  BOOST_TEST(sanitize("abcdef", 4) == "abcd");
}

BOOST_AUTO_TEST_CASE(masks_destinations) {
  BOOST_TEST(mask_phone("+15551234567") == "+1******4567");
  BOOST_TEST(mask_phone("+447700900123") == "+4*******0123");
  BOOST_TEST(mask_email("alice@example.com") == "a***@example.com");
  BOOST_TEST(mask_destination("bob@corp.example") == "b***@corp.example");
  BOOST_TEST(mask_destination("+15551234567") == "+1******4567");
  BOOST_TEST(mask_phone("123") == "1***");
}

BOOST_AUTO_TEST_CASE(validates_e164_and_email) {
  BOOST_TEST(is_e164("+15551234567"));
  BOOST_TEST(is_e164("+919876543210"));
  BOOST_TEST(!is_e164("15551234567"));
  BOOST_TEST(!is_e164("+0555123456"));
  BOOST_TEST(!is_e164("+1555-123-4567"));
  BOOST_TEST(!is_e164("+1234567890123456"));  // 16 digits
  BOOST_TEST(!is_e164("+123456"));
  BOOST_TEST(is_email("a@b.example"));
  BOOST_TEST(!is_email("a@b"));
  BOOST_TEST(!is_email("a b@c.example"));
  BOOST_TEST(!is_email("a@b@c.example"));
  BOOST_TEST(!is_email("@c.example"));
}

BOOST_AUTO_TEST_CASE(log_values_are_quoted_and_cannot_forge_fields) {
  BOOST_TEST(log_value("alice") == "alice");
  BOOST_TEST(log_value("") == "\"\"");
  BOOST_TEST(log_value("a b") == "\"a b\"");
  BOOST_TEST(log_value("x\" result=success") == "\"x\\\" result=success\"");
  BOOST_TEST(log_value("line\nbreak") == "\"line break\"");
}

BOOST_AUTO_TEST_CASE(secret_wipes_on_move_and_reassign) {
  Secret a("123456");
  Secret b(std::move(a));
  BOOST_TEST(a.empty());
  BOOST_TEST(b.reveal() == "123456");
  b = Secret("654321");
  BOOST_TEST(b.reveal() == "654321");
  std::string s = "a secret that is long enough to live on the heap";
  wipe(s);
  BOOST_TEST(s.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(text_masking)

BOOST_AUTO_TEST_CASE(bidi_formatting_is_stripped) {
  // U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LEFT-TO-RIGHT ISOLATE, U+2069 POP
  // DIRECTIONAL ISOLATE, U+200F RIGHT-TO-LEFT MARK, U+202A..U+202D.
  BOOST_TEST(otp::sanitize("ok\u202Edesrever") == "okdesrever");
  BOOST_TEST(otp::sanitize("a\u2066b\u2069c\u200Fd") == "abcd");
  BOOST_TEST(otp::sanitize("\u202A\u202B\u202C\u202Dx") == "x");
  BOOST_TEST(otp::sanitize("caf\u00e9 \u2014 \u20ac") == "caf\u00e9 \u2014 \u20ac");  // other text stays
}

BOOST_AUTO_TEST_CASE(contacts_inside_free_text_are_masked) {
  BOOST_TEST(otp::mask_contacts("Invalid parameter `To`: +15551234567") == "Invalid parameter `To`: +1******4567");
  BOOST_TEST(otp::mask_contacts("call 555-123-4567 or (555) 765 4321.") == "call 5*****4567 or (5*****4321.");
  BOOST_TEST(otp::mask_contacts("to alice.smith@example.com.") == "to a***@example.com.");
  BOOST_TEST(otp::mask_contacts("two: a@b.example, +447700900123") == "two: a***@b.example, +4*******0123");
  BOOST_TEST(otp::mask_contacts("ERR904: code 60200, 2 attempts") == "ERR904: code 60200, 2 attempts");
  BOOST_TEST(otp::mask_contacts("user@localhost stays") == "user@localhost stays");  // no dotted domain
  BOOST_TEST(otp::mask_contacts("") == "");
}

// Found by fuzz_rules: masking makes "a@b.co" longer, so a provider's message
// cut to 200 bytes first came out longer than 200.
BOOST_AUTO_TEST_CASE(shown_text_is_masked_and_bounded) {
  std::string many;
  for (int i = 0; i < 60; ++i) many += "a@b.co ";
  const std::string shown = otp::shown_text(many, 200);
  BOOST_TEST(shown.size() <= 200u);
  BOOST_TEST(shown.find("a@b.co") == std::string::npos);
  BOOST_TEST(shown.substr(0, 18) == "a***@b.co a***@b.c");
  BOOST_TEST(otp::sanitize(shown, 200) == shown);
  // A number cut by the bound is still masked: no 7 digits in a row survive.
  const std::string number = std::string(195, 'x') + " +15551234567";
  BOOST_TEST(otp::shown_text(number, 200).find("555123") == std::string::npos);
  BOOST_TEST(otp::shown_text("line\nbreak\x01", 200) == "line break");
}

BOOST_AUTO_TEST_CASE(split_lines_has_no_empty_last_line) {
  using V = std::vector<std::string_view>;
  BOOST_TEST((split_lines("publickey ssh-ed25519 AAA\npassword\n") == V{"publickey ssh-ed25519 AAA", "password"}));
  BOOST_TEST((split_lines("a\n\nb") == V{"a", "", "b"}));
  BOOST_TEST(split_lines("").empty());
}

BOOST_AUTO_TEST_SUITE_END()
