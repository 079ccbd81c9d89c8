#include "pam_harness.h"

#include <fcntl.h>
#include <security/pam_appl.h>
extern "C" {
#include <libpamtest.h>  // a C header without its own extern "C"
}
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "example_provider.h"
#include "http/curl_transport.h"
#include "pam_wrapper_lock.h"

namespace otp::testing {
namespace {

struct Script {
  std::vector<Responder> answers;
  std::size_t next = 0;
  PamResult* out = nullptr;
};

int on_message(const pam_message* m, pam_response& r, Script& s) {
  const std::string text = m->msg != nullptr ? m->msg : "";
  switch (m->msg_style) {
    case PAM_PROMPT_ECHO_OFF:
    case PAM_PROMPT_ECHO_ON: {
      s.out->prompts.push_back(text);
      s.out->echo.push_back(m->msg_style == PAM_PROMPT_ECHO_ON);
      if (s.next >= s.answers.size()) return PAM_CONV_ERR;
      auto answer = s.answers[s.next++](text);
      if (!answer) return PAM_CONV_ERR;
      if (*answer == kNullResponse) return PAM_SUCCESS;  // r.resp stays NULL, as misc_conv on Ctrl-D
      r.resp = strdup(answer->c_str());
      return PAM_SUCCESS;
    }
    case PAM_ERROR_MSG: s.out->errors.push_back(text); return PAM_SUCCESS;
    case PAM_TEXT_INFO: s.out->infos.push_back(text); return PAM_SUCCESS;
    default: return PAM_CONV_ERR;
  }
}

int conversation(int n, const pam_message** msgs, pam_response** resp, void* data) {
  auto& script = *static_cast<Script*>(data);
  auto* out = static_cast<pam_response*>(calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
  if (out == nullptr) return PAM_BUF_ERR;
  for (int i = 0; i < n; ++i) {
    if (on_message(msgs[i], out[i], script) != PAM_SUCCESS) {
      for (int j = 0; j < n; ++j) free(out[j].resp);
      free(out);
      return PAM_CONV_ERR;
    }
  }
  *resp = out;
  return PAM_SUCCESS;
}

// Sends fd 2 to a file while alive, so pam_wrapper's log lines can be read.
class StderrCapture {
 public:
  explicit StderrCapture(const std::string& path) : path_(path) {
    fflush(stderr);
    saved_ = dup(2);
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(fd, 2);
    close(fd);
  }
  std::string finish() {
    fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
    std::string text = read_file(path_);
    fputs(text.c_str(), stderr);  // still visible in ctest's output on failure
    return text;
  }
  ~StderrCapture() { if (saved_ >= 0) finish(); }

 private:
  std::string path_;
  int saved_ = -1;
};

std::string lib_dir() { return PAM_OTP_MULTIARCH_LIBDIR; }


// pam_wrapper copies PAM_WRAPPER_SERVICE_DIR once, when it loads, into a
// runtime directory where libpam then reads service files at each pam_start.
std::string service_dir() {
  const char* dir = std::getenv("PAM_WRAPPER_RUNTIME_DIR");
  if (dir == nullptr) throw std::runtime_error("not running under pam_wrapper (LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1)");
  return dir;
}

}  // namespace

std::string module_path() { return PAM_OTP_MODULE_PATH; }
std::string pam_matrix_path() { return lib_dir() + "/pam_wrapper/pam_matrix.so"; }
std::string pam_set_items_path() { return lib_dir() + "/pam_wrapper/pam_set_items.so"; }

const mock::Pki& Shared::pki() {
  static TempDir dir;  // removed at exit; the certificates are read only at start-up
  static const mock::Pki pki = mock::make_pki(dir.path());
  return pki;
}

// The first TLS exchange of a process pays for starting the mock's worker
// threads and both sides' OpenSSL; under valgrind on a busy machine that
// took more than 10 s. One untimed exchange here pays it before any test
// measures anything.
static void warm_up(const mock::MockProvider& m) {
  http::TlsOptions tls;
  tls.ca_pem = read_file(Shared::pki().ca_cert);
  http::Request request;
  request.method = "GET";
  request.url = m.base_url() + "/mock/settings";
  request.timeout = request.connect_timeout = std::chrono::seconds(300);
  const auto response = http::make_curl_transport(tls)->perform(request);
  if (response.failure != http::Failure::None || response.status != 200)
    throw std::runtime_error("the mock provider does not answer: " + response.error);
}

mock::MockProvider& Shared::mock() {
  static mock::MockProvider* mock = [] {
    auto* m = new mock::MockProvider(mock::MockOptions{pki().server_cert, pki().server_key});
    m->start();
    warm_up(*m);
    return m;
  }();
  return *mock;
}

std::string load_user(int i) { return "load" + std::to_string(i); }
std::string load_phone(int i) { return "+1555100" + std::to_string(1000 + i); }

const std::vector<std::string>& injection_names() {
  static const std::vector<std::string> names = {"*", "al*", "alice)(uid=*", "*)(|(uid=*", "alice\\"};
  return names;
}

namespace {

// The injection names' accounts: no login shell, so that no scan of login
// accounts (pam-otp enable) meets them.
std::string injection_passwd() {
  std::string out;
  int uid = 1010;
  for (const auto& name : injection_names())
    out += name + ":x:" + std::to_string(uid++) + ":1005:Injection:/nonexistent:/usr/sbin/nologin\n";
  return out;
}

std::string injection_passdb(const std::string& service) {
  std::string out;
  for (const auto& name : injection_names()) out += name + ":injection-password:" + service + "\n";
  return out;
}

}  // namespace

NssWrapperFiles::NssWrapperFiles() {
  std::string load;
  for (int i = 0; i < kLoadUsers; ++i)
    load += load_user(i) + ":x:" + std::to_string(2000 + i) + ":" + std::to_string(2000 + i) + "::/:/bin/sh\n";
  const std::string passwd = dir.write("passwd", load +
      "root:x:0:0:root:/root:/bin/sh\n"
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
      "alice:x:1001:1001:Alice:/home/alice:/bin/sh\n"
      "bob:x:1002:1002:Bob:/home/bob:/bin/sh\n"
      "carol:x:1003:1003:Carol:/home/carol:/bin/sh\n"
      "dave:x:1004:1004:Dave:/home/dave:/bin/sh\n"
      "we\"ird\\${x}:x:1005:1005:Weird:/home/weird:/bin/sh\n"
      "b\xe9" "a:x:1006:1006:Latin-1 name:/home/bea:/bin/sh\n" + injection_passwd(), 0644);
  // mfa: a directory-sized group (a line of about 24 KB) with alice in it;
  // broken: a group whose lookups fail (nss_alias_shim.c, when the test
  // names it in PAM_OTP_TEST_NSS_BROKEN_GROUPS).
  std::string mfa = "mfa:x:1200:";
  for (int i = 0; i < 3000; ++i) mfa += "member" + std::to_string(10000 + i) + ",";
  mfa += "alice\n";
  const std::string group = dir.write("group",
      "root:x:0:\nnogroup:x:65534:\nalice:x:1001:\nbob:x:1002:\ncarol:x:1003:\ndave:x:1004:\nweird:x:1005:\n"
      "wheel:x:1100:alice\nstaff:x:1101:bob,carol\n" + mfa + "broken:x:1201:alice\n", 0644);
  setenv("NSS_WRAPPER_PASSWD", passwd.c_str(), 1);
  setenv("NSS_WRAPPER_GROUP", group.c_str(), 1);
}

Responder null_response() {
  return [](const std::string&) -> std::optional<std::string> { return std::string(kNullResponse); };
}

Responder say(std::string text) {
  return [t = std::move(text)](const std::string&) { return t; };
}

Responder code_for(std::string to) {
  return [to = std::move(to)](const std::string&) { return Shared::mock().last_code_for(to); };
}

Responder wrong_code_for(std::string to) {
  return [to = std::move(to)](const std::string&) -> std::optional<std::string> {
    auto code = Shared::mock().last_code_for(to);
    if (!code || code->empty()) return std::string("000000");
    (*code)[0] = (*code)[0] == '9' ? '1' : static_cast<char>((*code)[0] + 1);
    return code;
  };
}

std::string PamResult::describe() const {
  std::string out = "rc=" + std::to_string(rc) + " (" + pam_strerror(nullptr, rc) + ")\nprompts:";
  for (const auto& p : prompts) out += " [" + p + "]";
  out += "\nerrors:";
  for (const auto& e : errors) out += " [" + e + "]";
  out += "\ninfos:";
  for (const auto& i : infos) out += " [" + i + "]";
  out += "\nrequests the mock received:";
  for (const auto& r : Shared::mock().requests()) out += "\n  " + r.method + " " + r.path + " " + r.body;
  return out + "\nlog:\n" + log;
}

PamHarness::PamHarness() {
  Shared::mock().reset();
  Shared::mock().clear_fault();
  Shared::mock().configure(mock::MockSettings{});
  Shared::mock().configure_dialects(mock::Dialects{});
  std::string load;
  for (int i = 0; i < kLoadUsers; ++i)  // for the in-process and the /etc/pam.d (load) services
    load += load_user(i) + ":load-password:" + service + "\n" + load_user(i) + ":load-password:" + kLoadService + "\n";
  dir_.write("passdb", load + "alice:alice-password:otp-test\nbob:bob-password:otp-test\n"
                       "carol:carol-password:otp-test\ndave:dave-password:otp-test\n"
                       "we\"ird\\${x}:weird-password:otp-test\n"
                       // other spellings of alice (see nss_alias_shim.c)
                       "ALICE:alice-password:otp-test\nalice@corp.example:alice-password:otp-test\n"
                       "b\xe9" "a:bea-password:otp-test\n" + injection_passdb(service), 0600);
  write_users("alice phone=+15551234567\nbob email=bob@example.com channel=email\ncarol phone=+15557654321\n");
  write_config(default_config());
}

std::string PamHarness::mock_url() const { return Shared::mock().base_url(); }

std::vector<std::string> PamHarness::slow_build_arguments() const {
  // Under valgrind everything, the mock's TLS included, is many times slower.
  const char* slow = std::getenv("PAM_OTP_TEST_TIMEOUT");
  if (slow == nullptr || config_sets_timeouts_) return {};
  return {"timeout=" + std::string(slow), "connect_timeout=" + std::string(slow)};
}

std::string PamHarness::default_config(const std::string& top) const {
  return "users_file = \"" + users_path() + "\"\nca_file = \"" + Shared::pki().ca_cert + "\"\n" + top + "\n" + mock_provider_toml("\"" + mock_url() + "\"");
}

std::string PamHarness::write_config(const std::string& text, mode_t mode) {
  config_sets_timeouts_ = text.rfind("timeout", 0) == 0 || text.find("\ntimeout") != std::string::npos ||
                          text.rfind("connect_timeout", 0) == 0 || text.find("\nconnect_timeout") != std::string::npos;
  config_sets_state_ = text.rfind("state_file", 0) == 0 || text.find("\nstate_file") != std::string::npos;
  config_sets_send_limit_ = text.rfind("send_limit", 0) == 0 || text.find("\nsend_limit") != std::string::npos;
  return dir_.write("pam_otp.conf", text, mode);
}

void PamHarness::write_users(const std::string& text) { dir_.write("pam_otp.users", text, 0644); }

void PamHarness::write_stack() const {
  std::ofstream out(service_dir() + "/" + service);
  out << stack_text();
}

std::string PamHarness::stack_text() const {
  std::ostringstream out;
  if (!password_control.empty())
    out << "auth " << password_control << " " << pam_matrix_path() << " passdb=" << passdb_path() << "\n";
  out << lines_before_otp << "auth required " << (module.empty() ? module_path() : module) << " config=" << config_path();
  for (const auto& arg : slow_build_arguments()) out << " " << arg;
  if (module_args.find("state_file=") == std::string::npos && !config_sets_state_) out << " state_file=" << state_path();
  // Most tests send many codes to one user; the send limit's own tests set it.
  if (module_args.find("send_limit") == std::string::npos && !config_sets_send_limit_ && !default_send_limit)
    out << " send_limit={}";
  out << " " << module_args << "\n"
      << lines_after_otp;
  return out.str();
}

namespace {

pam_handle_t* start_pam(const std::string& service, const std::string& user, const pam_conv& conv) {
  const PamWrapperSetupLock lock;
  pam_handle_t* ph = nullptr;
  if (pam_start(service.c_str(), user.c_str(), &conv, &ph) != PAM_SUCCESS) throw std::runtime_error("pam_start failed");
  return ph;
}

}  // namespace

bool PamResult::logged_at(int priority, const std::string& text) const {
  std::istringstream lines(log);
  const std::string level = "SYSLOG(" + std::to_string(priority) + ")";
  for (std::string line; std::getline(lines, line);)
    if (line.find(level) != std::string::npos && line.find(text) != std::string::npos) return true;
  return false;
}

PamResult PamHarness::authenticate(const std::string& user, std::vector<Responder> answers, int flags) {
  write_stack();
  PamResult result;
  Script script{std::move(answers), 0, &result};
  StderrCapture capture(dir() + "/stderr.log");
  const auto started = std::chrono::steady_clock::now();
  const pam_conv conv{conversation, &script};
  pam_handle_t* ph = start_pam(service, user, conv);
  if (!rhost.empty()) pam_set_item(ph, PAM_RHOST, rhost.c_str());
  if (!ruser.empty()) pam_set_item(ph, PAM_RUSER, ruser.c_str());
  for (const auto& entry : pam_env)
    if (pam_putenv(ph, entry.c_str()) != PAM_SUCCESS) throw std::runtime_error("pam_putenv failed: " + entry);
  // KEEPHANDLE first: libpamtest then never calls pam_end on our handle,
  // whatever the result; we end it ourselves.
  pam_testcase cases[] = {pam_test(PAMTEST_KEEPHANDLE, PAM_SUCCESS),
                          pam_test_flags(PAMTEST_AUTHENTICATE, PAM_SUCCESS, flags)};
  // The header's run_pamtest_conv macro misplaces a parenthesis (libpamtest 1.1.4),
  // so the function behind it is called directly.
  const auto err = _pamtest_conv(service.c_str(), user.c_str(), conversation, &script, cases,
                                 sizeof cases / sizeof cases[0], ph);
  if (cases[0].case_out.ph != ph) throw std::runtime_error("libpamtest did not use the given PAM handle");
  result.rc = cases[1].op_rv;
  pam_end(ph, result.rc);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  result.log = capture.finish();
  if (err != PAMTEST_ERR_OK && err != PAMTEST_ERR_CASE) throw std::runtime_error(pamtest_strerror(err));
  return result;
}

PamResult PamHarness::authenticate_with_authtok(const std::string& user, const std::string& authtok,
                                                std::vector<Responder> answers) {
  password_control = "";
  lines_before_otp = "auth required " + pam_set_items_path() + "\n";
  setenv("PAM_AUTHTOK", authtok.c_str(), 1);
  auto result = authenticate(user, std::move(answers));
  unsetenv("PAM_AUTHTOK");
  return result;
}

PamResult PamHarness::authenticate_without_conversation(const std::string& user) {
  write_stack();
  PamResult result;
  StderrCapture capture(dir() + "/stderr.log");
  const pam_conv conv{nullptr, nullptr};
  pam_handle_t* ph = start_pam(service, user, conv);
  result.rc = pam_authenticate(ph, 0);
  pam_end(ph, result.rc);
  result.log = capture.finish();
  return result;
}

}  // namespace otp::testing
