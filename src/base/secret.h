// Secrets (API keys, passwords, codes) live in Secret, which wipes its
// memory when it is destroyed, moved from or reassigned.
#pragma once

#include <string>
#include <string_view>

namespace otp {

// Overwrites the bytes of s (its whole capacity) and empties it.
void wipe(std::string& s) noexcept;
// Overwrites n bytes at p; the compiler may not elide it.
void wipe_bytes(void* p, std::size_t n) noexcept;

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view value) : value_(value) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { wipe(other.value_); }
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  ~Secret() { wipe(value_); }

  // The plain text, for the moment it is needed (a request body, a comparison).
  const std::string& reveal() const { return value_; }
  std::string& mutable_value() { return value_; }
  bool empty() const { return value_.empty(); }
  std::size_t size() const { return value_.size(); }

 private:
  std::string value_;
};

}  // namespace otp
