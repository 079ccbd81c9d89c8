// What a provider dialect is to the MockProvider: a set of POST routes, and
// state that expire_codes() and reset() reach. Each dialect keeps its own
// transactions, locks and limits (their rules differ too much to share the
// generic engine's) but draws codes from, and delivers them to, the shared
// OtpEngine so that set_next_code() and the outbox work for all of them.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dialects/dialects.h"
#include "otp_engine.h"

namespace otp::mock {

// Everything a handler may use. Handlers run under the MockProvider's
// mutex, so none of it needs a lock of its own.
class DialectContext {
 public:
  DialectContext(OtpEngine& engine, const Dialects& dialects, Clock::time_point now)
      : engine_(engine), dialects_(dialects), now_(now) {}

  const Dialects& dialects() const { return dialects_; }
  const MockSettings& mock_settings() const { return engine_.settings(); }
  Clock::time_point now() const { return now_; }
  std::string new_code() { return engine_.take_code(); }
  // Into the shared outbox, and printed with --print-codes.
  void deliver(const Delivery& d) {
    engine_.record_delivery(d);
    delivered_.push_back(d);
  }
  const std::vector<Delivery>& delivered() const { return delivered_; }

 private:
  OtpEngine& engine_;
  const Dialects& dialects_;
  const Clock::time_point now_;
  std::vector<Delivery> delivered_;
};

using DialectHandler = std::function<Reply(const httplib::Request&, DialectContext&)>;

struct DialectRoute {
  std::string pattern;  // an httplib (std::regex) path pattern
  DialectHandler handler;
  std::string method = "POST";  // or GET
};

class Dialect {
 public:
  virtual ~Dialect() = default;
  // Called once, before the server starts. The handlers may keep `this`.
  virtual std::vector<DialectRoute> routes() = 0;
  virtual void expire_codes() = 0;  // every issued code is now expired
  virtual void reset() = 0;         // forget codes, counters and locks (not user ids)
};

class CommunityKey;  // blockid_crypto.h

// What making a dialect may need. Outlives the dialects.
struct DialectSetup {
  const CommunityKey& community;  // BlockID's
};

// One provider dialect, defined in its own file (dialects/NAME.cc): how to
// make it, and how its settings, a member of Dialects, read and show as the
// section `name` of /mock/dialects. apply() and validate() throw
// std::invalid_argument naming the field without the section.
struct DialectKind {
  const char* name;
  std::unique_ptr<Dialect> (*make)(const DialectSetup& setup);
  void (*apply)(const Json::Value& section, Dialects& d);
  Json::Value (*to_json)(const Dialects& d);
  void (*validate)(const Dialects& d);
};

// Every dialect the mock speaks: the one list (dialect_kinds.cc).
const std::vector<const DialectKind*>& dialect_kinds();

}  // namespace otp::mock
