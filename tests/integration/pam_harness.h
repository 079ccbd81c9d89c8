// Runs real PAM stacks in-process: libpam redirected by pam_wrapper to a
// service directory of our own, users from nss_wrapper, pam_matrix for the
// password, then pam_otp.so talking to the mock provider over real TLS.
// The ctest entry preloads libpam_wrapper.so and libnss_wrapper.so.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mock_provider.h"
#include "temp_dir.h"
#include "test_pki.h"

namespace otp::testing {

// One mock provider and one PKI for the whole test program.
struct Shared {
  static const mock::Pki& pki();
  static mock::MockProvider& mock();
};

// Answers one prompt; nullopt ends the conversation with an error (like EOF).
using Responder = std::function<std::optional<std::string>(const std::string& prompt)>;

Responder say(std::string text);
// Answers the prompt with a NULL response and PAM_SUCCESS, as Linux-PAM's
// misc_conv does at end of input (Ctrl-D).
inline constexpr char kNullResponse[] = "\x01(NULL)";
Responder null_response();
// The code the mock last delivered to `to`, read when the prompt appears.
Responder code_for(std::string to);
// A code that is certainly wrong (the delivered one with its first digit changed).
Responder wrong_code_for(std::string to);

struct PamResult {
  int rc = -1;
  std::vector<std::string> prompts, infos, errors;
  std::vector<bool> echo;
  std::string log;  // everything pam_wrapper wrote to stderr (pam_syslog lines among it)
  std::chrono::milliseconds elapsed{0};

  bool logged(const std::string& text) const { return log.find(text) != std::string::npos; }
  // Is there a log line at this syslog priority that holds text?
  bool logged_at(int priority, const std::string& text) const;
  std::string describe() const;  // for failure messages
};

class PamHarness {
 public:
  PamHarness();

  const std::string& dir() const { return dir_.path(); }
  std::string mock_url() const;

  // The generic [provider.mock] table for the shared mock, plus `top` lines.
  std::string default_config(const std::string& top = "") const;
  std::string write_config(const std::string& text, mode_t mode = 0600);
  void write_users(const std::string& text);
  // Extra module arguments after config=...
  std::string module_args;
  // The password module line: "requisite" (the documented stack), "required",
  // or "" for no password module (pam_otp alone, as with public key + code).
  std::string password_control = "requisite";
  // Module lines placed between the password module and pam_otp, and after it.
  std::string module;  // pam_otp.so's path; empty: the one just built
  std::string lines_before_otp;
  std::string lines_after_otp;
  std::string rhost;
  // Unless the config sets send_limit, stacks turn it off (send_limit={})
  // so that tests may log in many times; true keeps pam_otp's defaults.
  bool default_send_limit = false;
  std::string ruser;  // PAM_RUSER, as su sets it to the invoking user
  std::string service = "otp-test";
  // NAME=VALUE entries put into the PAM environment before authenticating
  // (as sshd puts SSH_AUTH_INFO_0 there).
  std::vector<std::string> pam_env;

  PamResult authenticate(const std::string& user, std::vector<Responder> answers, int flags = 0);
  // As after a password module that keeps PAM_AUTHTOK for the next one
  // (pam_unix does; pam_matrix wipes it): pam_set_items plants `authtok`,
  // then pam_otp runs. Replaces the password module of the stack.
  PamResult authenticate_with_authtok(const std::string& user, const std::string& authtok,
                                      std::vector<Responder> answers);
  // pam_start with a NULL conversation function.
  PamResult authenticate_without_conversation(const std::string& user);

  std::string config_path() const { return dir() + "/pam_otp.conf"; }
  std::string users_path() const { return dir() + "/pam_otp.users"; }
  std::string passdb_path() const { return dir() + "/passdb"; }
  // The local state: every stack passes state_file=this (never /var/lib)
  // unless the test sets state_file itself.
  std::string state_path() const { return dir() + "/state/state.db"; }
  // The service file for the current settings, into pam_wrapper's runtime directory.
  void write_stack() const;
  // The same stack as text (for a real /etc/pam.d file).
  std::string stack_text() const;
  // Module arguments (KEY=VALUE) that stretch the timeouts in slow builds
  // (valgrind sets PAM_OTP_TEST_TIMEOUT: a first TLS handshake there takes
  // seconds), unless the config sets its own (a test of the timeouts
  // themselves); empty otherwise. Arguments, so that the config's line
  // numbers stay as written. The stack uses them; so does the CLI test.
  std::vector<std::string> slow_build_arguments() const;

 private:

  TempDir dir_;
  bool config_sets_timeouts_ = false;
  bool config_sets_state_ = false;
  bool config_sets_send_limit_ = false;
};

// Accounts whose names would widen an LDAP filter were they not escaped
// ("*", "al*", "alice)(uid=*", ...), each with the password
// "injection-password".
const std::vector<std::string>& injection_names();

// Writes passwd and group files for nss_wrapper and points it at them.
// Must run before the first user lookup of the process. Besides alice, bob,
// carol and dave there are load0 ... load199, for the concurrency tests.
// The test program's users and groups (nss_wrapper files), for as long as
// the program runs, removed afterwards.
struct NssWrapperFiles {
  NssWrapperFiles();
  TempDir dir;
};

inline constexpr int kLoadUsers = 200;
inline constexpr char kLoadService[] = "pam_otp_load_test";  // a temporary /etc/pam.d file
std::string load_user(int i);   // "load<i>"
std::string load_phone(int i);  // a distinct E.164 number per load user

// Paths of the module under test and of pam_wrapper's helper modules.
std::string module_path();
std::string pam_matrix_path();
std::string pam_set_items_path();

}  // namespace otp::testing
