// Where the module writes its log lines. In the module this is pam_syslog;
// the CLI writes to stderr; tests collect the lines.
#pragma once

#include <syslog.h>

#include <string>

namespace otp {

class Logger {
 public:
  virtual ~Logger() = default;
  // priority is a syslog level (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG).
  virtual void log(int priority, const std::string& message) = 0;
};

}  // namespace otp
