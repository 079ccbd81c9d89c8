#include "otp_engine.h"

#include <algorithm>

#include "mask.h"
#include "mock_json.h"
#include "otp_random.h"

namespace otp::mock {
namespace {

// Whole seconds until `until`, rounded up so a client that waits that long
// is never early; at least 1 while anything is left.
int seconds_until(Clock::time_point until, Clock::time_point now) {
  const auto left = std::chrono::ceil<std::chrono::seconds>(until - now).count();
  return static_cast<int>(std::max<decltype(left)>(left, 1));
}

Reply retry_reply(int status, const std::string& error, const std::string& message, int retry) {
  Reply r = error_reply(status, error, message);
  r.body["retry_after"] = retry;
  r.retry_after = retry;
  return r;
}

}  // namespace

Reply error_reply(int status, const std::string& error, const std::string& message) {
  Reply r;
  r.status = status;
  r.body["error"] = error;
  r.body["message"] = message;
  return r;
}

void OtpEngine::configure(const MockSettings& s) {
  validate(s);
  settings_ = s;
}

std::string OtpEngine::next_request_id() {
  return "req-" + std::to_string(++request_counter_);
}

std::optional<Reply> OtpEngine::locked_reply(const std::string& user,
                                             Clock::time_point now) const {
  const auto it = users_.find(user);
  if (it == users_.end() || it->second.locked_until <= now) return std::nullopt;
  return retry_reply(423, "locked", "Too many failed attempts",
                     seconds_until(it->second.locked_until, now));
}

std::optional<Reply> OtpEngine::rate_limited(const std::string& to, Clock::time_point now) {
  auto& times = sends_[to];
  const auto window = std::chrono::seconds(settings_.send_window_seconds);
  while (!times.empty() && times.front() + window <= now) times.pop_front();
  if (static_cast<int>(times.size()) < settings_.max_sends) return std::nullopt;
  return retry_reply(429, "rate_limited", "Too many codes requested",
                     seconds_until(times.front() + window, now));
}

std::string OtpEngine::take_code() {
  if (!next_code_) return settings_.fixed_code.empty() ? random_digits(settings_.code_length) : settings_.fixed_code;
  std::string code = std::move(*next_code_);
  next_code_.reset();
  return code;
}

Reply OtpEngine::send(const SendInput& in, Clock::time_point now) {
  const auto& known = settings_.known_users;
  if (!known.empty() && std::find(known.begin(), known.end(), in.user) == known.end())
    return error_reply(404, "unknown_user", "No such user");
  if (auto r = locked_reply(in.user, now)) return *r;
  if (auto r = rate_limited(in.to, now)) return *r;

  sends_[in.to].push_back(now);
  const std::string id = "tx-" + random_hex(8);
  UserState& user = users_[in.user];
  // A new code invalidates the one sent before it.
  if (auto old = transactions_.find(user.latest_transaction); old != transactions_.end())
    old->second.dead = true;
  user.latest_transaction = id;
  Delivery d{in.user, in.channel, in.to, take_code(), id};
  transactions_[id] = Transaction{in.user, d.code,
                                  now + std::chrono::seconds(settings_.code_ttl_seconds)};
  outbox_.push_back(d);

  Reply r;
  r.body["status"] = "sent";
  r.body["transaction_id"] = id;
  r.body["masked_to"] = mask_destination(in.to);
  r.delivered = std::move(d);
  return r;
}

Reply OtpEngine::wrong_code(Transaction& tx, Clock::time_point now) {
  UserState& user = users_[tx.user];
  if (++user.failures < settings_.max_failures) {
    Reply r = error_reply(422, "wrong_code", "Incorrect code");
    r.body["attempts_left"] = settings_.max_failures - user.failures;
    return r;
  }
  // Locked out: the attempts start afresh once the lock ends, but this
  // code is burnt so a lock cannot be outwaited to keep guessing it.
  user.failures = 0;
  user.locked_until = now + std::chrono::seconds(settings_.lock_seconds);
  tx.dead = true;
  return *locked_reply(tx.user, now);
}

Reply OtpEngine::verify(const VerifyInput& in, Clock::time_point now) {
  const auto it = transactions_.find(in.transaction_id);
  if (it == transactions_.end())
    return error_reply(404, "unknown_transaction", "No such transaction");
  Transaction& tx = it->second;
  if (auto r = locked_reply(tx.user, now)) return *r;
  if (tx.dead || now >= tx.expires) return error_reply(410, "expired", "The code has expired");
  if (in.code != tx.code) return wrong_code(tx, now);

  tx.dead = true;
  users_[tx.user].failures = 0;
  Reply r;
  r.body["status"] = "approved";
  return r;
}

void OtpEngine::expire_codes() {
  for (auto& [id, tx] : transactions_) tx.dead = true;
}

void OtpEngine::reset() {
  transactions_.clear();
  users_.clear();
  sends_.clear();
  outbox_.clear();
  next_code_.reset();
}

}  // namespace otp::mock
