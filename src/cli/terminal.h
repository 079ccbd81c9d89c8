// The command line's side of the flow's interfaces: a conversation on the
// terminal (echo off for codes and passwords when stdin is a terminal) and
// a log written to a stream.
#pragma once

#include <ostream>

#include "base/logger.h"
#include "flow/conversation.h"

namespace otp::cli {

class TerminalConversation final : public flow::Conversation {
 public:
  explicit TerminalConversation(std::ostream& out) : out_(out) {}
  std::optional<Secret> ask(std::string_view prompt, bool echo) override;
  void info(std::string_view text) override;
  void error(std::string_view text) override;

 private:
  std::ostream& out_;
};

// "  log: <line>" with the syslog level, every level included.
class StreamLogger final : public Logger {
 public:
  explicit StreamLogger(std::ostream& out) : out_(out) {}
  void log(int priority, const std::string& message) override;

 private:
  std::ostream& out_;
};

}  // namespace otp::cli
