// Wall and CPU time since a point, for debug lines that say what a step of
// a login cost (an administrator looking for where a slow login's time
// goes; bench/run reads the state store's from them).
#pragma once

#include <time.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace otp {

class Stopwatch {
 public:
  Stopwatch() : wall_(std::chrono::steady_clock::now()), cpu_(thread_cpu()) {}

  // "0.37 ms, 0.12 ms of CPU": the wall time, and this thread's CPU time
  // (not another process's that worked for it).
  std::string text() const { return text(wall_ms(), cpu_ms()); }
  // The same for times added up from several stopwatches.
  static std::string text(double wall_ms, double cpu_ms) {
    char out[64];
    std::snprintf(out, sizeof out, "%.2f ms, %.2f ms of CPU", wall_ms, cpu_ms);
    return out;
  }
  double wall_ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_).count();
  }
  double cpu_ms() const { return (thread_cpu() - cpu_) / 1e6; }

 private:
  static long long thread_cpu() {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
  }

  std::chrono::steady_clock::time_point wall_;
  long long cpu_;
};

}  // namespace otp
