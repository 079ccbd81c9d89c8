// The generic provider's business rules: codes, transactions, lockouts and
// rate limits. No HTTP and no locking here; MockProvider serialises calls.
#pragma once

#include <json/json.h>

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mock_types.h"

namespace otp::mock {

using Clock = std::chrono::steady_clock;

// What the HTTP layer should answer.
struct Reply {
  int status = 200;
  Json::Value body{Json::objectValue};
  int retry_after = 0;                 // > 0: also send a Retry-After header
  std::optional<Delivery> delivered;  // set when a code went out
};

Reply error_reply(int status, const std::string& error, const std::string& message);

struct SendInput {
  std::string user, channel, to;
};

struct VerifyInput {
  std::string transaction_id, code;
};

class OtpEngine {
 public:
  const MockSettings& settings() const { return settings_; }
  void configure(const MockSettings& s);  // throws std::invalid_argument
  void set_next_code(const std::string& code) { next_code_ = code; }

  Reply send(const SendInput& in, Clock::time_point now);
  Reply verify(const VerifyInput& in, Clock::time_point now);

  void expire_codes();
  void reset();  // everything but the settings
  const std::vector<Delivery>& outbox() const { return outbox_; }
  // For the provider dialects, which keep their own transactions but share
  // the forced next code and the outbox with the generic API.
  std::string take_code();  // the set_next_code() one if any, else random
  void record_delivery(Delivery d) { outbox_.push_back(std::move(d)); }
  // "req-<n>"; deliberately not reset by reset() so ids stay unique.
  std::string next_request_id();

 private:
  struct Transaction {
    std::string user, code;
    Clock::time_point expires;
    bool dead = false;  // used, superseded or expired by expire_codes()
  };
  struct UserState {
    int failures = 0;
    Clock::time_point locked_until{};
    std::string latest_transaction;
  };

  std::optional<Reply> locked_reply(const std::string& user, Clock::time_point now) const;
  std::optional<Reply> rate_limited(const std::string& to, Clock::time_point now);
  Reply wrong_code(Transaction& tx, Clock::time_point now);

  MockSettings settings_;
  std::map<std::string, Transaction> transactions_;
  std::map<std::string, UserState> users_;
  std::map<std::string, std::deque<Clock::time_point>> sends_;  // by destination
  std::vector<Delivery> outbox_;
  std::optional<std::string> next_code_;
  unsigned long request_counter_ = 0;
};

}  // namespace otp::mock
