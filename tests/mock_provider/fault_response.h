// The broken answers a Fault asks for. Each fills in an httplib response;
// the caller decides which one applies.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <string>

namespace otp::mock {

// status with {"error":"injected","message":"injected failure","request_id":...}
void injected_status(httplib::Response& res, int status, const std::string& request_id);

// 200 with a JSON object cut off after a key, e.g. {"status":"sent","transaction_id":
void malformed_json(httplib::Response& res);

// 200 with a valid JSON object of exactly `bytes` bytes (or the smallest
// such object, if bytes is smaller than that).
void oversized_json(httplib::Response& res, std::size_t bytes);

// 200 whose headers promise more body than is sent before the connection is
// dropped, as when a proxy or the provider dies mid-response.
void reset_connection(httplib::Response& res);

}  // namespace otp::mock
