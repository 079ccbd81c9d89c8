// MockProvider's thread-safe state control: each call takes the one mutex
// that the request handlers also take.
#include "dialects/dialect_set.h"
#include "mock_provider.h"

namespace otp::mock {

void MockProvider::configure(const MockSettings& s) {
  const std::lock_guard<std::mutex> lock(mutex_);
  engine_.configure(s);
}

MockSettings MockProvider::settings() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return engine_.settings();
}

void MockProvider::set_fault(const Fault& f) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    fault_ = f;
    ++fault_generation_;  // releases requests hung by the previous fault
  }
  wake_.notify_all();
}

void MockProvider::clear_fault() { set_fault(Fault{}); }

Fault MockProvider::fault() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return fault_;
}

void MockProvider::set_next_code(const std::string& code) {
  const std::lock_guard<std::mutex> lock(mutex_);
  engine_.set_next_code(code);
}

void MockProvider::expire_codes() {
  const std::lock_guard<std::mutex> lock(mutex_);
  engine_.expire_codes();
  dialect_set_->expire_codes();
}

void MockProvider::reset() {
  const std::lock_guard<std::mutex> lock(mutex_);
  engine_.reset();
  dialect_set_->reset();
  requests_.clear();
  tls_.reset_counts();
  provider_us_ = 0;
}

std::vector<Delivery> MockProvider::outbox() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return engine_.outbox();
}

std::optional<std::string> MockProvider::last_code_for(const std::string& to) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto& box = engine_.outbox();
  for (auto it = box.rbegin(); it != box.rend(); ++it)
    if (it->to == to) return it->code;
  return std::nullopt;
}

std::vector<RecordedRequest> MockProvider::requests() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

int MockProvider::handshakes() const { return tls_.handshakes(); }

int MockProvider::connections() const { return tls_.connections(); }

}  // namespace otp::mock
