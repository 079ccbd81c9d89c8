// What one authentication did, for the single key=value result line
// (docs/design.md, "The login flow").
#pragma once

#include <syslog.h>

#include <chrono>
#include <optional>
#include <string>

#include "flow/result.h"

namespace otp::flow {

struct LoginRecord {
  Result result = Result::Error;
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
  std::string source;  // where the destination came from (flow/sources.h), once known
  std::optional<std::chrono::microseconds> directory_time;  // set when the directory was asked

  // At the result's usual priority (flow/result.cc), or at `level`.
  void set(Result r, std::string why = {}) { set(r, result_priority(r), std::move(why)); }
  void set(Result r, int level, std::string why) {
    result = r;
    priority = level;
    reason = std::move(why);
  }
};

}  // namespace otp::flow
