// Plain data exchanged with the mock: its settings, injected faults and what
// it observed. Kept apart from the server so the JSON and engine code need
// not see httplib.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "dialects/dialects.h"

namespace otp::mock {

struct MockOptions {
  std::string cert_file, key_file;  // from Pki
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = pick a free port
  // 0 = OpenSSL's defaults. Otherwise the server speaks only this version
  // (min and max are both set), e.g. TLS1_1_VERSION for an old-TLS server.
  int min_tls_version = 0;
  // "" = OpenSSL's defaults. Otherwise the only TLS 1.2 cipher suites the
  // server accepts (OpenSSL's syntax; the server then speaks TLS 1.2 at
  // most), e.g. "NULL-SHA256" for a server no client should agree with.
  std::string cipher_list{};
  bool print_codes = false;  // print each delivered code to stdout
  // The /mock/ control API (outbox, codes, faults, settings). Off for
  // pam-otp try-out, where any local user could otherwise read the codes.
  bool control_api = true;
  // Worker threads. Each open connection holds one while kept alive, so this
  // bounds how many clients are served at once.
  int threads = 256;
  // How long an idle kept-alive connection stays open (httplib's default).
  // stop() closes idle connections at once whatever this is.
  int keep_alive_seconds = 5;
  // How long a connection may take to send or read one request (0:
  // httplib's 5 s).
  int io_timeout_seconds = 0;
  // Never more connections queued than `threads`: beyond that the acceptor
  // serves one itself and accepts nothing meanwhile, so that whoever opens
  // many connections holds at most threads + 1 (pam-otp try-out, which any
  // local user can reach).
  bool bounded_queue = false;
  // The provider dialects' settings until configure_dialects() changes them.
  Dialects dialects{};
  // The BlockID community's private key, base64 of a raw 32-byte secp256k1
  // scalar, for a public key fixed in advance; "" = a fresh key per mock.
  std::string blockid_private_key{};
};

// The provider's behaviour; the defaults are what a test expects from a
// fresh mock.
struct MockSettings {
  std::string api_key = "test-api-key";
  std::vector<std::string> known_users;  // empty = every user is known
  int max_failures = 5;                  // wrong codes before a lockout
  int lock_seconds = 900;
  int max_sends = 5;  // per destination per window
  int send_window_seconds = 600;
  int code_ttl_seconds = 300;
  int code_length = 6;
  // Non-empty: every code sent is this one (benchmarks answer it without
  // asking the mock); the forced next code still wins.
  std::string fixed_code;
};

// Misbehaviour injected into provider requests (never into /mock/ ones).
// The stages combine in this order: delay, hang, then the first of status,
// malformed_json, oversized_bytes, reset.
struct Fault {
  int delay_ms = 0;          // sleep, then answer normally
  bool hang = false;         // answer only once the fault is cleared or the server stops
  int status = 0;            // answer this status with an "injected" error body,
  std::string body;          // or with this JSON body (a provider's exact answer)
  std::string location;      // with status: a Location header (a redirect)
  bool malformed_json = false;       // 200 with a truncated JSON body
  std::size_t oversized_bytes = 0;   // 200 with a valid JSON body of this many bytes
  bool reset = false;        // promise a longer body, send a little, drop the connection
  int count = 0;             // 0 = every request; N = the next N, then the fault clears
  std::string path;          // empty = every provider path; else only this one

  bool any() const {
    return delay_ms > 0 || hang || status != 0 || malformed_json || oversized_bytes > 0 || reset;
  }
};

struct Delivery {
  std::string user, channel, to, code, transaction_id;
};

struct RecordedRequest {
  std::string method, path, body;  // path percent-decoded, as the server routes it
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string target;              // the request target exactly as it came on the wire
};

}  // namespace otp::mock
