// otp-floor: the benchmark's floor. The two HTTP requests a pam_otp login
// makes to the mock provider (send, then verify with the transaction id the
// send returned), from one process over one libcurl connection, with no PAM
// and no configuration: what curl --next would do if it could carry the
// transaction id from the first answer into the second request.
//
//   otp-floor BASE_URL CA_FILE API_KEY USER DESTINATION CODE
//
// Exit status 0 when the code is approved. Prints "login <CLOCK_MONOTONIC
// ns when verify answered> - <peak resident memory, KiB>", as otp-login does.
#include <curl/curl.h>
#include <json/json.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::size_t collect(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// POSTs a JSON body on the shared handle; the answer's JSON, or null.
Json::Value post(CURL* curl, const std::string& url, const Json::Value& body) {
  const std::string text = Json::writeString(Json::StreamWriterBuilder(), body);
  std::string answer;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  if (curl_easy_perform(curl) != CURLE_OK) return Json::Value();
  Json::Value parsed;
  std::istringstream in(answer);
  return Json::parseFromStream(Json::CharReaderBuilder(), in, &parsed, nullptr) ? parsed : Json::Value();
}

long peak_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

long long monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: otp-floor BASE_URL CA_FILE API_KEY USER DESTINATION CODE\n");
    return 2;
  }
  const std::string base = argv[1], user = argv[4], destination = argv[5], code = argv[6];
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  const std::string auth = std::string("Authorization: Bearer ") + argv[3];
  std::unique_ptr<curl_slist, SlistDeleter> headers(
      curl_slist_append(curl_slist_append(nullptr, "Content-Type: application/json"), auth.c_str()));
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_CAINFO, argv[2]);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl.get(), CURLOPT_PROXY, "");

  Json::Value send(Json::objectValue);
  send["user"] = user;
  send["channel"] = "sms";
  send["to"] = destination;
  const Json::Value sent = post(curl.get(), base + "/v1/otp/send", send);
  if (!sent.isObject() || !sent["transaction_id"].isString()) return 1;
  Json::Value verify(Json::objectValue);
  verify["transaction_id"] = sent["transaction_id"];
  verify["code"] = code;
  const Json::Value verified = post(curl.get(), base + "/v1/otp/verify", verify);
  const long long end = monotonic_ns();
  if (!verified.isObject() || verified["status"] != "approved") return 1;
  std::printf("login %lld - %ld\n", end, peak_kib());
  return 0;
}
