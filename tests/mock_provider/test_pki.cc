#include "test_pki.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "ossl_ptr.h"

namespace otp::mock {
namespace {

constexpr long kHour = 3600;
constexpr long kDay = 24 * kHour;
constexpr char kAllNames[] = "IP:127.0.0.1,IP:::1,DNS:localhost";

// Throws with the OpenSSL error queue appended: "why" alone rarely says
// enough when a certificate cannot be built.
[[noreturn]] void fail(const std::string& what) {
  std::string msg = "make_pki: " + what;
  unsigned long err = 0;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    msg += std::string(": ") + buf;
  }
  throw std::runtime_error(msg);
}

void check(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

struct KeyedCert {
  PkeyPtr key;
  X509Ptr cert;
};

// What differs between the certificates we issue.
struct CertSpec {
  std::string common_name;
  std::string alt_names;  // empty for a CA
  long not_before;        // seconds from now
  long not_after;
  bool is_ca;
};

PkeyPtr new_ec_key() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  check(key != nullptr, "cannot generate an EC P-256 key");
  return key;
}

// A random positive 159-bit serial, as RFC 5280 asks serials to be
// unpredictable and at most 20 octets.
void set_random_serial(X509* cert) {
  BnPtr bn(BN_new());
  check(bn && BN_rand(bn.get(), 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1,
        "cannot draw a serial number");
  check(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) != nullptr,
        "cannot set the serial number");
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  check(ext != nullptr, "bad extension " + value);
  check(X509_add_ext(cert, ext.get(), -1) == 1, "cannot add extension " + value);
}

void add_extensions(X509* cert, X509* issuer, const CertSpec& spec) {
  add_extension(cert, issuer, NID_subject_key_identifier, "hash");
  if (spec.is_ca) {
    add_extension(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    return;
  }
  add_extension(cert, issuer, NID_authority_key_identifier, "keyid:always");
  add_extension(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, issuer, NID_key_usage, "critical,digitalSignature");
  add_extension(cert, issuer, NID_ext_key_usage, "serverAuth");
  add_extension(cert, issuer, NID_subject_alt_name, spec.alt_names);
}

void set_names(X509* cert, const std::string& common_name) {
  X509_NAME* name = X509_get_subject_name(cert);
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("pam_otp tests"), -1,
                                   -1, 0) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) == 1,
        "cannot set the subject name");
}

// Issues a certificate for a fresh key; issuer == nullptr makes it self-signed.
KeyedCert issue(const CertSpec& spec, const KeyedCert* issuer) {
  KeyedCert out{new_ec_key(), X509Ptr(X509_new())};
  X509* cert = out.cert.get();
  check(cert != nullptr && X509_set_version(cert, X509_VERSION_3) == 1, "cannot create X509");
  set_random_serial(cert);
  check(X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after) != nullptr,
        "cannot set the validity period");
  set_names(cert, spec.common_name);
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : out.key.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) == 1 &&
            X509_set_pubkey(cert, out.key.get()) == 1,
        "cannot set issuer or public key");
  add_extensions(cert, issuer_cert, spec);
  check(X509_sign(cert, signing_key, EVP_sha256()) > 0, "cannot sign " + spec.common_name);
  return out;
}

// Writes through open(2) so that a key file never exists, even briefly,
// with wider permissions than mode, and never through a symbolic link
// (otp-mock runs as root for pam-otp try-out).
void write_file(const std::string& path, const std::string& data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) throw std::runtime_error("make_pki: cannot create " + path + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  for (std::size_t done = 0; ok && done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  const int saved = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok) throw std::runtime_error("make_pki: cannot write " + path + ": " + std::strerror(saved));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

void save(const KeyedCert& kc, const std::string& cert_path, const std::string& key_path, bool with_key = true) {
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  check(cert_bio && key_bio && PEM_write_bio_X509(cert_bio.get(), kc.cert.get()) == 1 &&
            PEM_write_bio_PrivateKey(key_bio.get(), kc.key.get(), nullptr, nullptr, 0, nullptr,
                                     nullptr) == 1,
        "cannot encode PEM for " + cert_path);
  if (with_key) write_file(key_path, bio_text(key_bio.get()), 0600);
  write_file(cert_path, bio_text(cert_bio.get()), 0644);
}

CertSpec leaf(const std::string& cn, const std::string& names, long from, long to) {
  return CertSpec{cn, names, from, to, false};
}

}  // namespace

Pki make_pki(const std::string& dir, bool server_only) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("make_pki: cannot create " + dir + ": " + ec.message());
  const auto path = [&](const char* name) { return (std::filesystem::path(dir) / name).string(); };
  Pki pki{dir,
          path("ca.pem"),        path("ca.key"),
          path("server.pem"),    path("server.key"),
          path("expired.pem"),   path("expired.key"),
          path("wronghost.pem"), path("wronghost.key"),
          path("untrusted.pem"), path("untrusted.key"),
          path("forged.pem"),    path("forged.key")};

  const KeyedCert ca = issue({"otp-mock test CA", "", -kHour, 30 * kDay, true}, nullptr);
  save(ca, pki.ca_cert, pki.ca_key, !server_only);
  save(issue(leaf("localhost", kAllNames, -kHour, kDay), &ca), pki.server_cert, pki.server_key);
  if (server_only) return pki;
  const KeyedCert rogue_ca = issue({"otp-mock untrusted CA", "", -kHour, 30 * kDay, true}, nullptr);
  save(issue(leaf("localhost", kAllNames, -30 * kDay, -kDay), &ca), pki.expired_cert,
       pki.expired_key);
  save(issue(leaf("wrong.example", "DNS:wrong.example", -kHour, kDay), &ca), pki.wrong_host_cert,
       pki.wrong_host_key);
  save(issue(leaf("localhost", kAllNames, -kHour, kDay), &rogue_ca), pki.untrusted_cert,
       pki.untrusted_key);
  // The trusted CA's certificate (its name, its key identifier) with another key.
  const KeyedCert forger{new_ec_key(), X509Ptr(X509_dup(ca.cert.get()))};
  check(forger.cert != nullptr, "cannot copy the CA certificate");
  save(issue(leaf("localhost", kAllNames, -kHour, kDay), &forger), pki.forged_cert, pki.forged_key);
  return pki;
}

}  // namespace otp::mock
