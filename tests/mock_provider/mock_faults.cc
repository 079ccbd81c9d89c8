// Where provider requests are recorded and faults injected, before the
// route's own handler sees them.
#include <cctype>
#include <chrono>

#include "fault_response.h"
#include "mock_provider.h"

namespace otp::mock {
namespace {

// httplib adds these to every request's headers; the client sent none of
// them.
bool added_by_httplib(const std::string& lower_name) {
  return lower_name == "remote_addr" || lower_name == "remote_port" ||
         lower_name == "local_addr" || lower_name == "local_port";
}

RecordedRequest record(const httplib::Request& req) {
  RecordedRequest r{req.method, req.path, req.body, {}, req.target};
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!added_by_httplib(lower)) r.headers.emplace_back(std::move(lower), value);
  }
  return r;
}

}  // namespace

httplib::Server::Handler MockProvider::wrap(httplib::Server::Handler handler) {
  return [this, handler = std::move(handler)](const httplib::Request& req,
                                              httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    if (before_handler(req, res)) handler(req, res);
    provider_us_ += std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  };
}

// The fault that applies to a request on `path`, counting it down.
// Caller holds mutex_.
std::optional<Fault> MockProvider::take_fault(const std::string& path) {
  if (!fault_.any() || (!fault_.path.empty() && fault_.path != path)) return std::nullopt;
  Fault taken = fault_;
  // Running out does not bump fault_generation_: a request hung by this
  // fault stays hung until someone clears or replaces it.
  if (fault_.count > 0 && --fault_.count == 0) fault_ = Fault{};
  return taken;
}

// Waits until the fault is replaced or cleared, or the server stops. The
// wait releases the mutex, so nothing is held while hanging.
void MockProvider::wait_for_hang_release(std::unique_lock<std::mutex>& lock) {
  const unsigned long generation = fault_generation_;
  wake_.wait(lock, [&] { return stopping_ || fault_generation_ != generation; });
}

bool MockProvider::before_handler(const httplib::Request& req, httplib::Response& res) {
  std::unique_lock<std::mutex> lock(mutex_);
  requests_.push_back(record(req));
  const std::optional<Fault> fault = take_fault(req.path);
  if (!fault) return true;
  if (fault->delay_ms > 0)
    wake_.wait_for(lock, std::chrono::milliseconds(fault->delay_ms), [&] { return stopping_; });
  if (fault->hang) wait_for_hang_release(lock);
  const std::string request_id = engine_.next_request_id();
  const bool stopping = stopping_;
  lock.unlock();

  if (stopping) {
    injected_status(res, 503, request_id);
  } else if (fault->status != 0) {
    injected_status(res, fault->status, request_id);
    if (!fault->body.empty()) res.set_content(fault->body, "application/json");
    if (!fault->location.empty()) res.set_header("Location", fault->location);
  } else if (fault->malformed_json) {
    malformed_json(res);
  } else if (fault->oversized_bytes > 0) {
    oversized_json(res, fault->oversized_bytes);
  } else if (fault->reset) {
    reset_connection(res);
  } else {
    return true;  // only delayed or hung: now answer normally
  }
  return false;
}

}  // namespace otp::mock
