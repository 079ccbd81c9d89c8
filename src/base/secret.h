// Secrets (API keys, passwords, codes) live in Secret, whose memory is wiped
// whenever it is released: when the Secret is destroyed, moved from or
// reassigned, and when its buffer grows (SecureString's allocator wipes
// every block it frees). Values derived from secrets (a "Bearer" header, a
// request body) are built in SecureString for the same reason.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace otp {

// Overwrites n bytes at p; the compiler may not elide it.
void wipe_bytes(void* p, std::size_t n) noexcept;

// An allocator whose deallocate() wipes the block first.
template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    wipe_bytes(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const WipingAllocator<U>&) const noexcept { return true; }
};

using SecureString = std::basic_string<char, std::char_traits<char>, WipingAllocator<char>>;

// Overwrites the bytes of s (its whole capacity) and empties it.
void wipe(std::string& s) noexcept;
void wipe(SecureString& s) noexcept;

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view value) : value_(value) {}
  explicit Secret(const char* value) : value_(value) {}
  explicit Secret(SecureString&& value) noexcept : value_(std::move(value)) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { wipe(other.value_); }
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  ~Secret() { wipe(value_); }

  // The plain text, for the moment it is needed (a request body, a comparison).
  std::string_view reveal() const { return value_; }
  const char* c_str() const { return value_.c_str(); }
  SecureString& mutable_value() { return value_; }
  bool empty() const { return value_.empty(); }
  std::size_t size() const { return value_.size(); }

 private:
  SecureString value_;
};

}  // namespace otp
