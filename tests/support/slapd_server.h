// A real OpenLDAP slapd for one test program: Debian's slapd, a database
// of its own in a temporary directory (an slapd.conf, back_mdb, the core,
// cosine and inetOrgPerson schemas), TLS with a CA made at test time, on
// free loopback ports: one for ldap:// (StartTLS) and one for ldaps://.
// Entries are loaded with ldapadd, as an administrator would.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace otp::testing {

struct SlapdOptions {
  bool wrong_host_certificate = false;  // serve a certificate for wrong.example only
};

class SlapdServer {
 public:
  static constexpr char kBase[] = "dc=example,dc=com";
  static constexpr char kAdmin[] = "cn=admin,dc=example,dc=com";

  explicit SlapdServer(SlapdOptions options = {});
  SlapdServer(const SlapdServer&) = delete;
  SlapdServer& operator=(const SlapdServer&) = delete;
  ~SlapdServer();

  int ldap_port() const { return ldap_port_; }
  int ldaps_port() const { return ldaps_port_; }
  std::string ldap_uri() const { return "ldap://127.0.0.1:" + std::to_string(ldap_port_); }
  std::string ldaps_uri() const { return "ldaps://127.0.0.1:" + std::to_string(ldaps_port_); }
  const std::string& ca_file() const { return ca_; }
  const std::string& dir() const { return dir_; }
  const std::string& admin_password() const { return admin_password_; }

  // Runs ldapadd (or ldapmodify with `modify`) as kAdmin over ldaps://;
  // throws with its output if it fails.
  void add(const std::string& ldif, bool modify = false) const;

  void start();
  void stop();    // SIGTERM, waited for
  void freeze();  // SIGSTOP: connections are accepted by the kernel, nothing answers
  void thaw();

 private:
  void wait_until_listening() const;

  SlapdOptions options_;
  std::string dir_, ca_, admin_password_;
  int ldap_port_ = 0, ldaps_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace otp::testing
