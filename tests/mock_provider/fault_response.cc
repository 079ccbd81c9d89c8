#include "fault_response.h"

#include <json/json.h>

#include "mock_json.h"

namespace otp::mock {
namespace {

constexpr char kJson[] = "application/json";

Json::Value sent_body() {
  Json::Value v(Json::objectValue);
  v["status"] = "sent";
  v["transaction_id"] = "tx-0000000000000000";
  return v;
}

}  // namespace

void injected_status(httplib::Response& res, int status, const std::string& request_id) {
  Json::Value v(Json::objectValue);
  v["error"] = "injected";
  v["message"] = "injected failure";
  v["request_id"] = request_id;
  res.status = status;
  res.set_content(to_text(v), kJson);
}

void malformed_json(httplib::Response& res) {
  // Serialise a real object and cut it after its last key, so the text is
  // plausible JSON that no parser can accept.
  const std::string whole = to_text(sent_body());
  const std::string key = "\"transaction_id\":";
  res.status = 200;
  res.set_content(whole.substr(0, whole.find(key) + key.size()), kJson);
}

void oversized_json(httplib::Response& res, std::size_t bytes) {
  Json::Value v = sent_body();
  v["padding"] = "";
  const std::size_t overhead = to_text(v).size();
  v["padding"] = std::string(bytes > overhead ? bytes - overhead : 0, 'x');
  res.status = 200;
  res.set_content(to_text(v), kJson);
}

void reset_connection(httplib::Response& res) {
  constexpr std::size_t kPromised = 4096;
  res.status = 200;
  const std::string start = to_text(sent_body()).substr(0, 10);
  res.set_content_provider(kPromised, kJson,
                           [start](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                             if (offset == 0) sink.write(start.data(), start.size());
                             // false makes httplib abandon the response and
                             // close the socket mid-body.
                             return false;
                           });
}

}  // namespace otp::mock
