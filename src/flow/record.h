// What one authentication did, for the single key=value result line (SPEC §7).
#pragma once

#include <syslog.h>

#include <chrono>
#include <string>

namespace otp::flow {

struct LoginRecord {
  std::string result = "error";  // success, wrong_code, locked, unavailable, ...
  std::string reason;            // detail for the administrator (never a secret)
  int priority = LOG_NOTICE;
  std::string user;              // the passwd name, once looked up
  std::string login_name;        // the name as typed, when it differs
  std::string caller;            // destination_user = "caller": whose code it was
  std::string channel;
  std::string destination;       // masked
  int attempts = 0;              // codes sent to the provider for checking
  std::string request_id;
  std::chrono::microseconds provider_time{0};

  void set(std::string result_name, int level, std::string why = {}) {
    result = std::move(result_name);
    priority = level;
    reason = std::move(why);
  }
};

}  // namespace otp::flow
