#include "flow/result.h"

#include <syslog.h>

#include <array>

namespace otp::flow {
namespace {

struct AuthResultRow {
  AuthResult result;
  std::string_view name;
};

constexpr std::array<AuthResultRow, 8> kAuthResults = {{
    {AuthResult::Success, "PAM_SUCCESS"},
    {AuthResult::ServiceErr, "PAM_SERVICE_ERR"},
    {AuthResult::AuthErr, "PAM_AUTH_ERR"},
    {AuthResult::AuthInfoUnavail, "PAM_AUTHINFO_UNAVAIL"},
    {AuthResult::UserUnknown, "PAM_USER_UNKNOWN"},
    {AuthResult::MaxTries, "PAM_MAXTRIES"},
    {AuthResult::ConvErr, "PAM_CONV_ERR"},
    {AuthResult::Ignore, "PAM_IGNORE"},
}};

struct ResultRow {
  Result result;
  std::string_view text;
  int priority;
};

constexpr std::array<ResultRow, 24> kResults = {{
    {Result::Error, "error", LOG_NOTICE},
    {Result::Success, "success", LOG_INFO},
    {Result::Remembered, "remembered", LOG_INFO},
    {Result::RecoveryCode, "recovery_code", LOG_ALERT},
    {Result::OutOfScope, "out_of_scope", LOG_INFO},
    {Result::Unenrolled, "unenrolled", LOG_NOTICE},
    {Result::FailOpen, "failopen", LOG_WARNING},
    {Result::UserUnknown, "user_unknown", LOG_NOTICE},
    {Result::ConversationFailed, "conversation_failed", LOG_NOTICE},
    {Result::MaxTries, "max_tries", LOG_NOTICE},
    {Result::Expired, "expired", LOG_NOTICE},
    {Result::Rejected, "rejected", LOG_NOTICE},
    {Result::Locked, "locked", LOG_NOTICE},
    {Result::Disabled, "disabled", LOG_NOTICE},
    {Result::WrongPin, "wrong_pin", LOG_ERR},
    {Result::RateLimited, "rate_limited", LOG_NOTICE},
    {Result::SendLimited, "send_limited", LOG_NOTICE},
    {Result::Unavailable, "unavailable", LOG_NOTICE},
    {Result::UntrustedProvider, "untrusted_provider", LOG_ERR},
    {Result::ConfigError, "config_error", LOG_ERR},
    {Result::SshMethodsMissing, "ssh_methods_missing", LOG_ERR},
    {Result::EarlierModuleFailed, "earlier_module_failed", LOG_NOTICE},
    {Result::SshdFakedAnswer, "sshd_faked_answer", LOG_ERR},
    {Result::PasswordAsCode, "password_as_code", LOG_ERR},
}};

const ResultRow& row(Result r) {
  for (const auto& row : kResults)
    if (row.result == r) return row;
  return kResults[0];  // not reached: every Result has a row (result_test.cc)
}

}  // namespace

std::string_view result_name(AuthResult r) {
  for (const auto& row : kAuthResults)
    if (row.result == r) return row.name;
  return "?";
}

std::string_view result_text(Result r) { return row(r).text; }
int result_priority(Result r) { return row(r).priority; }

}  // namespace otp::flow
