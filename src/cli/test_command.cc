// pam-otp test USER: the whole login on this terminal, through the same
// code as the module (flow::authenticate), with every step logged.
#include <algorithm>
#include <iostream>

#include "directory/lookup.h"
#include "store/pg_store.h"
#include "cli/commands.h"
#include "cli/terminal.h"
#include "config/loader.h"
#include "flow/explain.h"
#include "flow/login.h"
#include "provider/channels.h"
#include "http/curl_transport.h"

namespace otp::cli {
namespace {

constexpr char kUsage[] = R"(Usage: pam-otp test USER [--config PATH] [--arg KEY=VALUE]... [--channel C]
                     [--service NAME] [--rhost ADDR] [--ruser NAME] [--explain]

Runs pam_otp's whole login for USER on this terminal, with the module's own
code: scope, destination, send, prompt, verify. Every exchange with the
provider is printed with its outcome and latency. A real code is sent, and
counts against send_limit; a recovery code typed is used up; a success is
not remembered.

  --channel C     use channel C (sms, voice, whatsapp, email, sms+email, ask) whatever
                  the users file says
  --service NAME  the PAM service to pretend to be (default: pam-otp), for
                  exempt_services
  --rhost ADDR    the remote host to pretend to come from, for exempt_networks,
                  remember and send_limit
  --ruser NAME    the invoking user (PAM_RUSER), for destination_user = "caller"
                  (with --service su)
  --explain       only say whether USER would be asked for a code, why, and
                  where it would go; nothing is sent

Exit status: 0 when the code was verified (or, with --explain, when a code
would be asked), 1 otherwise, 2 on a usage error.
)";

struct TestOptions {
  CommonOptions common;
  flow::LoginRequest request;
  bool explain = false;
};

bool parse(std::vector<std::string> args, TestOptions& o, std::ostream& err) {
  if (!take_common_options(args, o.common, err)) return false;
  o.request.service = "pam-otp";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--explain") o.explain = true;
    else if (a == "--channel" && has_value) o.request.channel = args[++i];
    else if (a == "--service" && has_value) o.request.service = args[++i];
    else if (a == "--rhost" && has_value) o.request.rhost = args[++i];
    else if (a == "--ruser" && has_value) o.request.ruser = args[++i];
    else if (!a.empty() && a[0] != '-' && o.request.user.empty()) o.request.user = a;
    else {
      err << "pam-otp test: unexpected argument '" << a << "'\n";
      return false;
    }
  }
  if (o.request.channel && *o.request.channel != "ask" && provider::find_channel(*o.request.channel) == nullptr) {
    err << "pam-otp test: --channel must be " << provider::channel_names(true) << "\n";
    return false;
  }
  if (o.request.user.empty() && !o.common.help) {
    err << "pam-otp test: which user?\n";
    return false;
  }
  return true;
}

int explain(const config::Loaded& loaded, const flow::LoginRequest& request, std::ostream& out) {
  flow::SystemUserDirectory directory;
  const auto e = flow::explain(loaded, request, directory, directory::lookup);
  auto line = [&out](const std::string& label, const std::string& text) {
    out << label << ":" << std::string(label.size() < 11 ? 11 - label.size() : 1, ' ') << text << "\n";
  };
  for (const auto& [label, text] : e.lines) line(label, text);
  line("result", e.code_would_be_sent ? "a code would be sent (nothing was sent)" : "no code would be sent");
  return e.code_would_be_sent ? kExitOk : kExitFailed;
}

int login(const config::Loaded& loaded, const flow::LoginRequest& request, std::ostream& out) {
  const flow::AuthResult result = terminal_login(loaded, request, out);
  out << "result: " << flow::result_name(result) << "\n";
  return result == flow::AuthResult::Success ? kExitOk : kExitFailed;
}

}  // namespace

flow::AuthResult terminal_login(const config::Loaded& loaded, const flow::LoginRequest& request, std::ostream& out) {
  TerminalConversation conversation(out);
  StreamLogger log(out);
  flow::SystemClock clock;
  flow::SystemUserDirectory users;
  flow::Services services{&conversation, clock, log, users, http::make_curl_transport};
  services.remember_logins = false;  // a test is no login: nothing to skip the code for later
  services.open_shared_store = [](const store::PgConnectOptions& options, std::chrono::milliseconds budget) {
    return store::open_pg_store(options, budget);
  };
  services.directory_lookup = directory::lookup;
  return flow::authenticate(loaded, request, services);
}

int run_test(const std::vector<std::string>& arguments, std::ostream& out, std::ostream& err) {
  TestOptions o;
  if (!parse(arguments, o, err)) {
    err << kUsage;
    return kExitUsage;
  }
  if (o.common.help) {
    out << kUsage;
    return kExitOk;
  }
  o.common.module_args.push_back("debug");  // every exchange, with its outcome and latency
  const auto loaded = load_or_report(o.common.module_args, err);
  if (!loaded) {
    err << "pam-otp test: the configuration has errors; a login would fail with PAM_SERVICE_ERR\n";
    return kExitFailed;
  }
  return o.explain ? explain(*loaded, o.request, out) : login(*loaded, o.request, out);
}

}  // namespace otp::cli
