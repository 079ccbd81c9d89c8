// Concurrency (issue #6): many logins at once, in threads of one process
// (the module must be safe in multi-threaded hosts) and in 200 separate
// processes against one mock provider.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <cstring>
#include <fstream>
#include <thread>

#include "child_process.h"
#include "pam_harness.h"
#include "pam_wrapper_lock.h"
#include "store/sqlite_store.h"

using namespace otp::testing;

namespace {

struct Answers {
  std::string password, phone;
};

int answer(int n, const pam_message** msgs, pam_response** resp, void* data) {
  const auto& a = *static_cast<const Answers*>(data);
  auto* out = static_cast<pam_response*>(calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
  for (int i = 0; i < n; ++i) {
    if (msgs[i]->msg_style != PAM_PROMPT_ECHO_OFF) continue;
    const bool password = std::strstr(msgs[i]->msg, "assword") != nullptr;
    out[i].resp = strdup(password ? a.password.c_str() : Shared::mock().last_code_for(a.phone).value_or("").c_str());
  }
  *resp = out;
  return PAM_SUCCESS;
}

// One login without the harness's stderr capture, which is process-wide.
int login(const std::string& service, const std::string& user, const std::string& phone) {
  Answers a{"load-password", phone};
  const pam_conv conv{answer, &a};
  pam_handle_t* ph = nullptr;
  int started = PAM_ABORT;
  {
    const PamWrapperSetupLock lock;
    started = pam_start(service.c_str(), user.c_str(), &conv, &ph);
  }
  if (started != PAM_SUCCESS) return -1;
  const int rc = pam_authenticate(ph, PAM_SILENT);
  pam_end(ph, rc);
  return rc;
}

std::string load_users_file() {
  std::string users;
  for (int i = 0; i < kLoadUsers; ++i) users += load_user(i) + " phone=" + load_phone(i) + "\n";
  return users;
}

void allow_many_codes() {
  auto settings = Shared::mock().settings();
  settings.max_sends = 1000;
  Shared::mock().configure(settings);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_AUTO_TEST_CASE(eight_threads_of_full_logins_in_one_process) {
  PamHarness pam;
  pam.write_users(load_users_file());
  pam.write_stack();
  allow_many_codes();
  constexpr int kThreads = 8, kLoginsEach = 25;
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kLoginsEach; ++i)
        if (login(pam.service, load_user(t), load_phone(t)) == PAM_SUCCESS) ++succeeded;
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(succeeded.load() == kThreads * kLoginsEach);
  BOOST_TEST(Shared::mock().outbox().size() == static_cast<std::size_t>(kThreads * kLoginsEach));
}

BOOST_AUTO_TEST_CASE(two_hundred_logins_at_once_in_separate_processes) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: pam_wrapper serves at most 62 processes at once, so this test installs a "
                       "temporary /etc/pam.d service, which needs root (CI runs as root)");
    return;
  }
  PamHarness pam;
  pam.service = kLoadService;
  pam.write_users(load_users_file());
  // Every login reads and writes the local state: the send limit (read,
  // then a write), the remembered-login lookup and, after the code, a write.
  pam.write_config(pam.default_config("remember = 600\nremember_services = [\"" + std::string(kLoadService) +
                                      "\"]\nsend_limit = { user = \"5/15m\", rhost = \"1000/1h\" }"));
  allow_many_codes();
  const std::string service_file = std::string("/etc/pam.d/") + kLoadService;
  BOOST_REQUIRE_MESSAGE(::access(service_file.c_str(), F_OK) != 0, service_file + " exists; not touching it");
  std::ofstream(service_file) << pam.stack_text();
  // Real libpam in each child (no pam_wrapper); users from nss_wrapper.
  std::vector<std::string> env = nss_only_environment();
  env.push_back("OTP_LOGIN_RHOST=203.0.113.77");
  std::vector<pid_t> children;
  for (int i = 0; i < kLoadUsers; ++i)
    children.push_back(spawn_process({PAM_OTP_LOGIN_PATH, kLoadService, load_user(i), "load-password",
                                      pam.mock_url(), Shared::pki().ca_cert, load_phone(i)}, env, "", ""));
  int succeeded = 0;
  for (pid_t pid : children) {
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) ++succeeded;
  }
  ::unlink(service_file.c_str());
  BOOST_TEST(succeeded == kLoadUsers);
  BOOST_TEST(Shared::mock().outbox().size() == static_cast<std::size_t>(kLoadUsers));
  // No login gave up on the store (its wait is bounded by 1 s; a login that
  // gave up would have gone on without writing): each one counted its send
  // and remembered its client.
  auto store = otp::store::open_sqlite_store(pam.state_path());
  BOOST_TEST(store->remembered("", std::time(nullptr)).size() == static_cast<std::size_t>(kLoadUsers));
  int sent = 0;
  for (int i = 0; i < kLoadUsers; ++i) sent += store->count("send_user", load_user(i), 0);
  BOOST_TEST(sent == kLoadUsers);
}

BOOST_AUTO_TEST_SUITE_END()
