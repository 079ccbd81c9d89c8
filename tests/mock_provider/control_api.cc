// The /mock/ control API, so that shell scripts and the otp-mock binary can
// drive the mock as tests do in-process. These routes are not wrapped:
// never recorded, never faulted.
#include <stdexcept>

#include "mock_json.h"
#include "mock_provider.h"

namespace otp::mock {
namespace {

using Req = httplib::Request;
using Res = httplib::Response;

void reply_json(Res& res, const Json::Value& v, int status = 200) {
  res.status = status;
  res.set_content(to_text(v), "application/json");
}

void reply_ok(Res& res) {
  Json::Value v(Json::objectValue);
  v["status"] = "ok";
  reply_json(res, v);
}

void reply_bad(Res& res, const std::string& field) {
  Json::Value v(Json::objectValue);
  v["error"] = "invalid_request";
  v["message"] = field;
  reply_json(res, v, 400);
}

template <typename T>
Json::Value to_json_array(const std::vector<T>& items) {
  Json::Value v(Json::arrayValue);
  for (const T& item : items) v.append(to_json(item));
  return v;
}

void add_observation_routes(httplib::Server& s, MockProvider& m) {
  s.Get("/mock/outbox", [&m](const Req&, Res& res) { reply_json(res, to_json_array(m.outbox())); });
  // The last code sent to ?to=..., as plain text, for shell scripts (404 if none).
  s.Get("/mock/last_code", [&m](const Req& req, Res& res) {
    const auto code = m.last_code_for(req.get_param_value("to"));
    res.status = code ? 200 : 404;
    res.set_content(code ? *code + "\n" : "no code\n", "text/plain");
  });
  s.Get("/mock/requests",
        [&m](const Req&, Res& res) { reply_json(res, to_json_array(m.requests())); });
  s.Get("/mock/stats", [&m](const Req&, Res& res) {
    Json::Value v(Json::objectValue);
    v["handshakes"] = m.handshakes();
    v["connections"] = m.connections();
    v["requests"] = static_cast<Json::UInt64>(m.requests().size());
    v["provider_us"] = static_cast<Json::Int64>(m.provider_microseconds());
    reply_json(res, v);
  });
  s.Get("/mock/fault", [&m](const Req&, Res& res) { reply_json(res, to_json(m.fault())); });
  s.Get("/mock/settings", [&m](const Req&, Res& res) { reply_json(res, to_json(m.settings())); });
}

void add_state_routes(httplib::Server& s, MockProvider& m) {
  s.Post("/mock/reset", [&m](const Req&, Res& res) {
    m.reset();
    reply_ok(res);
  });
  s.Post("/mock/expire", [&m](const Req&, Res& res) {
    m.expire_codes();
    reply_ok(res);
  });
  s.Post("/mock/next_code", [&m](const Req& req, Res& res) {
    const auto body = parse_object(req.body);
    if (!body || !(*body)["code"].isString()) return reply_bad(res, "code");
    m.set_next_code((*body)["code"].asString());
    reply_ok(res);
  });
  s.Post("/mock/fault", [&m](const Req& req, Res& res) {
    const auto body = parse_object(req.body);
    if (!body) return reply_bad(res, "body");
    try {
      m.set_fault(fault_from_json(*body));
    } catch (const std::invalid_argument& e) {
      return reply_bad(res, e.what());
    }
    reply_ok(res);
  });
  s.Delete("/mock/fault", [&m](const Req&, Res& res) {
    m.clear_fault();
    reply_ok(res);
  });
}

}  // namespace

void MockProvider::add_control_routes() {
  add_observation_routes(*server_, *this);
  add_state_routes(*server_, *this);
  server_->Post("/mock/settings", [this](const Req& req, Res& res) {
    const auto body = parse_object(req.body);
    if (!body) return reply_bad(res, "body");
    try {
      // Read-modify-write under the lock, so a partial update cannot undo
      // a concurrent one.
      const std::lock_guard<std::mutex> lock(mutex_);
      MockSettings next = engine_.settings();
      apply_json(*body, next);
      engine_.configure(next);
      reply_json(res, to_json(next));
    } catch (const std::invalid_argument& e) {
      reply_bad(res, e.what());
    }
  });
}

}  // namespace otp::mock
