// The time, behind an interface so that cooldowns are tested without sleeping.
#pragma once

#include <chrono>

namespace otp::flow {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
};

}  // namespace otp::flow
