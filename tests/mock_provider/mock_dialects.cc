// MockProvider's side of the provider dialects: their routes (recorded and
// faulted through wrap() like the generic ones), their settings, and
// /mock/dialects for scripts.
#include <stdexcept>

#include "dialects/dialect_set.h"
#include "mock_json.h"
#include "mock_provider.h"

namespace otp::mock {

void MockProvider::add_dialect_routes() {
  for (const auto& dialect : dialect_set_->all()) {
    for (auto& route : dialect->routes()) {
      auto handler = wrap([this, h = std::move(route.handler)](const httplib::Request& req, httplib::Response& res) {
        run_dialect(h, req, res);
      });
      if (route.method == "GET") server_->Get(route.pattern, std::move(handler));
      else server_->Post(route.pattern, std::move(handler));
    }
  }
}

void MockProvider::run_dialect(const DialectHandler& handler, const httplib::Request& req,
                               httplib::Response& res) {
  Reply reply;
  std::vector<Delivery> delivered;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    DialectContext ctx(engine_, dialects_, Clock::now());
    reply = handler(req, ctx);
    delivered = ctx.delivered();
  }
  if (options_.print_codes)
    for (const Delivery& d : delivered) print_code(d);
  respond(res, reply);
}

void MockProvider::configure_dialects(const Dialects& d) {
  validate(d);
  const std::lock_guard<std::mutex> lock(mutex_);
  dialects_ = d;
}

Dialects MockProvider::dialects() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return dialects_;
}

std::string MockProvider::community_public_key() const {
  return dialect_set_->community_public_key();  // fixed at construction
}

// Not wrapped: never recorded, never faulted, like the rest of /mock/.
void MockProvider::add_dialect_control_routes() {
  const auto reply = [this](httplib::Response& res, const Dialects& d, int status = 200) {
    Json::Value v = to_json(d);
    v["blockid"]["community_public_key"] = community_public_key();
    res.status = status;
    res.set_content(to_text(v), "application/json");
  };
  server_->Get("/mock/dialects", [this, reply](const httplib::Request&, httplib::Response& res) {
    reply(res, dialects());
  });
  server_->Post("/mock/dialects",
                [this, reply](const httplib::Request& req, httplib::Response& res) {
                  Json::Value error(Json::objectValue);
                  error["error"] = "invalid_request";
                  const auto body = parse_object(req.body);
                  try {
                    if (!body) throw std::invalid_argument("body");
                    // Read-modify-write under the lock, so partial updates do not race.
                    std::unique_lock<std::mutex> lock(mutex_);
                    apply_json(*body, dialects_);
                    const Dialects now = dialects_;
                    lock.unlock();
                    reply(res, now);
                  } catch (const std::invalid_argument& e) {
                    error["message"] = e.what();
                    res.status = 400;
                    res.set_content(to_text(error), "application/json");
                  }
                });
}

}  // namespace otp::mock
