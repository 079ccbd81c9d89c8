// otp-login: one whole PAM login as a user would do it, for concurrency
// tests and benchmarks. The conversation answers the password prompt with
// PASSWORD and any other prompt with the code the mock provider delivered to
// DESTINATION (read from its /mock/last_code control API).
//
//   otp-login SERVICE USER PASSWORD MOCK_URL CA_FILE DESTINATION [REPEAT]
//
// Run it under pam_wrapper (LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1
// PAM_WRAPPER_SERVICE_DIR=...). Exit status 0 when pam_authenticate says
// PAM_SUCCESS (every time); otherwise the PAM error is printed and the status
// is 1. With REPEAT, the login (pam_start, pam_authenticate, pam_end) runs
// REPEAT times in this process, and the resident memory after a tenth of
// them and at the end is printed: "rss_kib <after warm-up> <at the end>".
#include <curl/curl.h>
#include <security/pam_appl.h>

#include <chrono>
#include <fstream>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

struct Login {
  std::string password, mock_url, ca_file, destination;
};

std::size_t collect(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// The code the mock last delivered to the destination, waiting for it a little.
std::string delivered_code(const Login& login) {
  CURL* curl = curl_easy_init();
  char* to = curl_easy_escape(curl, login.destination.c_str(), 0);
  const std::string url = login.mock_url + "/mock/last_code?to=" + to;
  curl_free(to);
  std::string code;
  for (int i = 0; i < 200 && code.empty(); ++i) {
    std::string body;
    long status = 0;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, login.ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) code = body.substr(0, body.find('\n'));
    else std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  curl_easy_cleanup(curl);
  return code;
}

int conversation(int n, const pam_message** msgs, pam_response** resp, void* data) {
  const auto& login = *static_cast<const Login*>(data);
  auto* out = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
  if (out == nullptr) return PAM_BUF_ERR;
  for (int i = 0; i < n; ++i) {
    const int style = msgs[i]->msg_style;
    if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON) continue;
    const bool password = std::strstr(msgs[i]->msg, "assword") != nullptr;
    out[i].resp = strdup(password ? login.password.c_str() : delivered_code(login).c_str());
  }
  *resp = out;
  return PAM_SUCCESS;
}

bool login_once(const char* service, const char* user, Login& login) {
  const pam_conv conv{conversation, &login};
  pam_handle_t* ph = nullptr;
  if (pam_start(service, user, &conv, &ph) != PAM_SUCCESS) return false;
  const int rc = pam_authenticate(ph, 0);
  if (rc != PAM_SUCCESS) std::fprintf(stderr, "otp-login %s: %s\n", user, pam_strerror(ph, rc));
  pam_end(ph, rc);
  return rc == PAM_SUCCESS;
}

long resident_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8) {
    std::fprintf(stderr, "usage: otp-login SERVICE USER PASSWORD MOCK_URL CA_FILE DESTINATION [REPEAT]\n");
    return 2;
  }
  Login login{argv[3], argv[4], argv[5], argv[6]};
  const int repeat = argc == 8 ? std::atoi(argv[7]) : 1;
  const int warm_up = repeat / 10;
  long after_warm_up = resident_kib();
  bool ok = true;
  for (int i = 0; i < repeat && ok; ++i) {
    ok = login_once(argv[1], argv[2], login);
    if (i + 1 == warm_up) after_warm_up = resident_kib();
  }
  if (argc == 8) std::printf("rss_kib %ld %ld\n", after_warm_up, resident_kib());
  return ok ? 0 : 1;
}
