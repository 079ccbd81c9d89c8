#include "fakes.h"

namespace otp::testing {

http::Response FakeTransport::perform(const http::Request& request) {
  SeenRequest r{request.method, request.url, std::string(request.body.reveal()), {}};
  for (const auto& [name, value] : request.headers) r.headers[name] = std::string(value.reveal());
  seen.push_back(r);
  return handler_(r);
}

http::Response json_response(long status, const std::string& body, std::vector<std::pair<std::string, std::string>> headers) {
  http::Response r;
  r.status = status;
  r.body = body;
  r.headers = std::move(headers);
  r.elapsed = std::chrono::milliseconds(5);
  return r;
}

http::Response failed_response(http::Failure failure, const std::string& error) {
  http::Response r;
  r.failure = failure;
  r.error = error;
  r.elapsed = std::chrono::milliseconds(5);
  return r;
}

std::optional<Secret> FakeConversation::ask(std::string_view prompt, bool echo) {
  prompts.emplace_back(prompt);
  echoes.push_back(echo);
  if (prompts.size() > answers.size()) return std::nullopt;  // like EOF
  auto answer = answers[prompts.size() - 1](std::string(prompt));
  if (!answer) return std::nullopt;
  return Secret(*answer);
}

std::optional<flow::UserInfo> FakeUserDirectory::find_user(const std::string& name) {
  if (!users.count(name)) return std::nullopt;
  return flow::UserInfo{name, 1000, 1000};
}

std::optional<gid_t> FakeUserDirectory::gid_of(const std::string& group) const {
  std::set<std::string> all;
  for (const auto& [user, groups] : users) all.insert(groups.begin(), groups.end());
  const auto it = all.find(group);
  if (it == all.end()) return std::nullopt;
  return static_cast<gid_t>(5000 + std::distance(all.begin(), it));
}

std::optional<std::vector<gid_t>> FakeUserDirectory::group_ids(const flow::UserInfo& user) {
  if (groups_unlisted) return std::nullopt;
  std::vector<gid_t> gids{user.gid};
  for (const auto& g : users[user.name])
    if (auto gid = gid_of(g)) gids.push_back(*gid);
  return gids;
}

flow::GroupLookup FakeUserDirectory::find_group(const std::string& name) {
  flow::GroupLookup lookup;
  if (broken.count(name)) {
    lookup.error = "Input/output error";
    return lookup;
  }
  const auto gid = gid_of(name);
  lookup.status = gid ? flow::GroupLookup::Status::Found : flow::GroupLookup::Status::Missing;
  lookup.gid = gid.value_or(0);
  return lookup;
}

bool CollectingLogger::contains(const std::string& text) const { return all().find(text) != std::string::npos; }

std::string CollectingLogger::all() const {
  std::string out;
  for (const auto& [priority, line] : lines) out += std::to_string(priority) + " " + line + "\n";
  return out;
}

}  // namespace otp::testing
