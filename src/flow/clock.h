// The time, behind an interface so that cooldowns and expiries are tested
// without sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace otp::flow {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  // Unix seconds, for what outlives the login (the local state).
  virtual std::int64_t unix_time() = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  std::int64_t unix_time() override {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
};

}  // namespace otp::flow
