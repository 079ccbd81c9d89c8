// Small pieces every dialect needs: parsing what the client sent (auth
// headers, form bodies, JSON fields) and making the identifiers providers
// hand back.
#pragma once

#include <httplib.h>
#include <json/json.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "otp_engine.h"

namespace otp::mock {

// Standard alphabet with padding, as Node's Buffer and HTTP Basic use.
std::string base64_encode(const std::string& bytes);
// nullopt unless text is canonical padded standard base64.
std::optional<std::string> base64_decode(const std::string& text);

struct BasicCredentials {
  std::string user, password;
};
// "Authorization: Basic base64(user:password)"; the scheme is case-insensitive.
std::optional<BasicCredentials> basic_auth(const httplib::Request& req);
// The token of "Authorization: Bearer <token>".
std::optional<std::string> bearer_token(const httplib::Request& req);

// Content-Type without parameters, lower-case ("" if absent).
std::string media_type(const httplib::Request& req);

// The fields of an application/x-www-form-urlencoded body ('+' is a space,
// %XX an octet; a repeated name keeps its last value). nullopt on a bad
// escape.
std::optional<std::map<std::string, std::string>> parse_form(const std::string& body);

// obj[name] if it is a string, else "".
std::string string_field(const Json::Value& obj, const char* name);

bool is_e164(const std::string& s);    // "+", then 2 to 15 digits, the first not 0
bool is_email(const std::string& s);   // something@something.something, no spaces
bool is_digits(const std::string& s);  // non-empty, ASCII digits only

std::string random_uuid();  // RFC 9562 version 4, lower-case

// "2024-01-02T03:04:05Z"
std::string iso8601_utc(std::chrono::system_clock::time_point t);

// A JSON reply with no Retry-After.
Reply json_reply(int status, Json::Value body);

}  // namespace otp::mock
