// A configuration problem, located so that an administrator can fix it:
// "/etc/security/pam_otp.conf:12: key 'attempts': must be an integer from 1 to 20".
#pragma once

#include <string>
#include <vector>

namespace otp {

struct Problem {
  std::string file;     // path, or "module argument N"
  int line = 0;         // 0 when not known
  std::string key;      // dotted key, empty when not about one key
  std::string message;
  bool warning = false;  // reported by `pam-otp check`, never fails a login

  std::string to_string() const;
};

// Collects every problem instead of stopping at the first, so `pam-otp check`
// can list them all.
class Problems {
 public:
  void add(Problem p) { list_.push_back(std::move(p)); }
  void add(std::string file, int line, std::string key, std::string message) {
    list_.push_back({std::move(file), line, std::move(key), std::move(message), false});
  }
  void warn(std::string file, int line, std::string key, std::string message) {
    list_.push_back({std::move(file), line, std::move(key), std::move(message), true});
  }
  // What a check found that is fine but worth saying (how the shared store
  // was reached): printed by `pam-otp check`, never a problem.
  void note(std::string text) { notes_.push_back(std::move(text)); }
  bool has_errors() const;
  const std::vector<Problem>& list() const { return list_; }
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  std::vector<Problem> list_;
  std::vector<std::string> notes_;
};

}  // namespace otp
