// Fake implementations of the core's interfaces to the outside world, for
// unit tests of the flow: HTTP, conversation, clock, user database, log.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/logger.h"
#include "flow/clock.h"
#include "flow/conversation.h"
#include "flow/login.h"
#include "flow/user_directory.h"
#include "http/transport.h"

namespace otp::testing {

// A request as the fake saw it, with secrets in the clear for assertions.
struct SeenRequest {
  std::string method, url, body;
  std::map<std::string, std::string> headers;
};

class FakeTransport final : public http::Transport {
 public:
  using Handler = std::function<http::Response(const SeenRequest&)>;
  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}
  http::Response perform(const http::Request& request) override;
  std::vector<SeenRequest> seen;

 private:
  Handler handler_;
};

http::Response json_response(long status, const std::string& body,
                             std::vector<std::pair<std::string, std::string>> headers = {});
http::Response failed_response(http::Failure failure, const std::string& error = "injected");

// Answers prompts from a script; each answer may be computed when asked.
class FakeConversation final : public flow::Conversation {
 public:
  using Answer = std::function<std::optional<std::string>(const std::string& prompt)>;
  std::vector<Answer> answers;
  std::vector<std::string> prompts, infos, errors;
  std::vector<bool> echoes;

  void say(std::string text) { answers.push_back([t = std::move(text)](const std::string&) { return t; }); }
  std::optional<Secret> ask(std::string_view prompt, bool echo) override;
  void info(std::string_view text) override { infos.emplace_back(text); }
  void error(std::string_view text) override { errors.emplace_back(text); }
};

class FakeClock final : public flow::Clock {
 public:
  std::chrono::steady_clock::time_point t{std::chrono::hours(1000)};
  std::int64_t unix{1'800'000'000};
  std::chrono::steady_clock::time_point now() override { return t; }
  std::int64_t unix_time() override { return unix; }
  void advance(std::chrono::seconds s) {
    t += s;
    unix += s.count();
  }
};

// Users and their groups; every group named in `users` exists (gids by
// name, from 5000), and the groups in `broken` cannot be read.
class FakeUserDirectory final : public flow::UserDirectory {
 public:
  std::map<std::string, std::vector<std::string>> users;  // name -> groups
  std::set<std::string> broken;
  bool groups_unlisted = false;  // group_ids() fails
  std::optional<flow::UserInfo> find_user(const std::string& name) override;
  std::optional<std::vector<gid_t>> group_ids(const flow::UserInfo& user) override;
  flow::GroupLookup find_group(const std::string& name) override;

 private:
  std::optional<gid_t> gid_of(const std::string& group) const;
};

class CollectingLogger final : public Logger {
 public:
  std::vector<std::pair<int, std::string>> lines;
  void log(int priority, const std::string& message) override { lines.emplace_back(priority, message); }
  bool contains(const std::string& text) const;
  std::string all() const;
};

}  // namespace otp::testing
