#include "dialects/code_book.h"

#include <algorithm>

namespace otp::mock {

int seconds_until(Clock::time_point until, Clock::time_point now) {
  const auto left = std::chrono::ceil<std::chrono::seconds>(until - now).count();
  return static_cast<int>(std::max<decltype(left)>(left, 1));
}

void CodeBook::issue(const std::string& key, const std::string& code, Clock::time_point expires) {
  entries_[key] = Entry{code, expires, false, false};
}

CodeCheck CodeBook::check(const std::string& key, const std::string& code, Clock::time_point now) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return CodeCheck::none;
  Entry& e = it->second;
  if (code != e.code) return CodeCheck::wrong;
  if (e.used) return CodeCheck::used;
  if (e.expired || now >= e.expires) return CodeCheck::expired;
  e.used = true;
  return CodeCheck::ok;
}

void CodeBook::expire_all() {
  for (auto& [key, e] : entries_) e.expired = true;
}

bool FailureLocks::locked(const std::string& key, Clock::time_point now) const {
  const auto it = keys_.find(key);
  return it != keys_.end() && it->second.locked_until > now;
}

int FailureLocks::seconds_locked(const std::string& key, Clock::time_point now) const {
  const auto it = keys_.find(key);
  return it == keys_.end() ? 0 : seconds_until(it->second.locked_until, now);
}

bool FailureLocks::fail(const std::string& key, int max, std::chrono::seconds lock,
                        Clock::time_point now, std::chrono::seconds window) {
  State& s = keys_[key];
  if (window.count() > 0)
    while (!s.failures.empty() && s.failures.front() + window <= now) s.failures.pop_front();
  s.failures.push_back(now);
  if (static_cast<int>(s.failures.size()) < max) return false;
  s.failures.clear();
  s.locked_until = now + lock;
  return true;
}

void FailureLocks::succeed(const std::string& key) {
  if (auto it = keys_.find(key); it != keys_.end()) it->second.failures.clear();
}

int SendWindow::try_send(const std::string& to, int max, int window_seconds,
                         Clock::time_point now) {
  auto& times = sends_[to];
  const auto window = std::chrono::seconds(window_seconds);
  while (!times.empty() && times.front() + window <= now) times.pop_front();
  if (static_cast<int>(times.size()) >= max) return seconds_until(times.front() + window, now);
  times.push_back(now);
  return 0;
}

}  // namespace otp::mock
