// File safety (SECURITY.md, "Files are handled with care") through real libpam: each unsafe config, secrets or
// users file is refused with PAM_SERVICE_ERR, a log line naming the file and
// the rule, and nothing sent.
#include <boost/test/unit_test.hpp>

#include <security/pam_appl.h>
#include <grp.h>
#include <sys/stat.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <functional>

#include "pam_harness.h"

using namespace otp::testing;

namespace {

struct SafetyFixture {
  PamHarness pam;

  void expect_refused(const std::string& file, const std::string& rule) {
    const auto r = pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")});
    BOOST_TEST_INFO(r.describe());
    BOOST_TEST(r.rc == PAM_SERVICE_ERR);
    BOOST_TEST(r.logged("SYSLOG(3): configuration error: " + file + ": " + rule));
    BOOST_TEST(r.prompts.size() == 1u);  // the password only
    BOOST_TEST(Shared::mock().requests().empty());
  }
  std::string moved_config() {
    const std::string real = pam.dir() + "/real.conf";
    BOOST_REQUIRE(::rename(pam.config_path().c_str(), real.c_str()) == 0);
    return real;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(file_safety, SafetyFixture)

BOOST_AUTO_TEST_CASE(a_symbolic_link) {
  const std::string real = moved_config();
  BOOST_REQUIRE(::symlink(real.c_str(), pam.config_path().c_str()) == 0);
  expect_refused(pam.config_path(), "is a symbolic link; refusing to follow it (O_NOFOLLOW)");
}

BOOST_AUTO_TEST_CASE(group_writable) {
  pam.write_config(pam.default_config(), 0620);
  expect_refused(pam.config_path(), "is writable by group or others (mode 0620); run: chmod go-w");
}

BOOST_AUTO_TEST_CASE(world_writable_users_file) {
  pam.write_users("alice phone=+15551234567\n");
  BOOST_REQUIRE(::chmod(pam.users_path().c_str(), 0666) == 0);
  expect_refused(pam.users_path(), "is writable by group or others (mode 0666); run: chmod go-w");
}

BOOST_AUTO_TEST_CASE(world_readable_with_secrets) {
  pam.write_config(pam.default_config(), 0604);
  expect_refused(pam.config_path(), "holds secrets and is readable by others; run: chmod o-r");
}

BOOST_AUTO_TEST_CASE(group_readable_only_with_secrets_group) {
  pam.write_config(pam.default_config(), 0640);
  expect_refused(pam.config_path(), "holds secrets and is readable by its group");
  // Allowed deliberately: secrets_group names the file's group.
  struct stat st {};
  BOOST_REQUIRE(::stat(pam.config_path().c_str(), &st) == 0);
  struct group* g = getgrgid(st.st_gid);
  BOOST_REQUIRE(g != nullptr);
  pam.write_config(pam.default_config("secrets_group = \"" + std::string(g->gr_name) + "\""), 0640);
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")});
  BOOST_TEST_INFO(r.describe());
  BOOST_TEST(r.rc == PAM_SUCCESS);
}

BOOST_AUTO_TEST_CASE(owned_by_another_user) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: changing a file's owner needs root (CI runs as root)");
    return;
  }
  BOOST_REQUIRE(::chown(pam.config_path().c_str(), 65534, 65534) == 0);  // nobody
  expect_refused(pam.config_path(), "is owned by uid 65534; it must be owned by root");
}

BOOST_AUTO_TEST_CASE(a_directory) {
  const std::string real = moved_config();
  BOOST_REQUIRE(::mkdir(pam.config_path().c_str(), 0700) == 0);
  expect_refused(pam.config_path(), "is not a regular file");
  ::rmdir(pam.config_path().c_str());
}

BOOST_AUTO_TEST_CASE(a_fifo_does_not_block_the_login) {
  moved_config();
  BOOST_REQUIRE(::mkfifo(pam.config_path().c_str(), 0600) == 0);  // nobody writes to it
  expect_refused(pam.config_path(), "is not a regular file");
}

BOOST_AUTO_TEST_CASE(two_mebibytes) {
  pam.write_config(pam.default_config() + "# " + std::string(2 << 20, 'x') + "\n");
  expect_refused(pam.config_path(), "is larger than the limit of 1048576 bytes");
}

BOOST_AUTO_TEST_CASE(the_secrets_file_obeys_the_same_rules) {
  const std::string secrets = pam.dir() + "/secrets";
  FILE* f = std::fopen(secrets.c_str(), "w");
  std::fputs("[provider.mock]\napi_key = \"test-api-key\"\n", f);
  std::fclose(f);
  BOOST_REQUIRE(::chmod(secrets.c_str(), 0644) == 0);
  pam.write_config(pam.default_config("secrets_file = \"" + secrets + "\""));
  expect_refused(secrets, "holds secrets and is readable by others; run: chmod o-r");
}


// The TLS files get the config's rules: whoever can write the CA can answer
// "accepted", whoever can read the client key can be the client.
BOOST_AUTO_TEST_CASE(trust_files_get_the_configs_checks) {
  const std::string ca = pam.dir() + "/ca.pem";
  {
    std::ifstream in(Shared::pki().ca_cert);
    std::ofstream out(ca);
    out << in.rdbuf();
  }
  auto with = [&](const std::string& key, const std::string& path, const std::string& rule,
                  const std::function<void()>& prepare) {
    prepare();
    std::string text = pam.default_config(key + " = \"" + path + "\"");
    if (key == "ca_file") text.erase(text.find("ca_file = \"" + Shared::pki().ca_cert + "\"\n"),
                                     std::string("ca_file = \"\"\n").size() + Shared::pki().ca_cert.size());
    pam.write_config(text);
    const auto r = pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")});
    BOOST_TEST_INFO(key << " " << path << "\n" << r.describe());
    BOOST_TEST(r.rc == PAM_SERVICE_ERR);
    BOOST_TEST(r.logged("key '" + key + "': '" + path + "' " + rule));
    BOOST_TEST(Shared::mock().requests().empty());
  };
  // A symbolic link to a world-writable CA (owned by nobody when root can say so).
  const std::string writable = pam.dir() + "/writable-ca.pem";
  const std::string link = pam.dir() + "/link-ca.pem";
  with("ca_file", link, "is a symbolic link; refusing to follow it (O_NOFOLLOW)", [&] {
    {
      std::ifstream in(ca);
      std::ofstream out(writable);
      out << in.rdbuf();
    }
    BOOST_REQUIRE(::chmod(writable.c_str(), 0666) == 0);
    if (::geteuid() == 0) BOOST_REQUIRE(::chown(writable.c_str(), 65534, 65534) == 0);
    BOOST_REQUIRE(::symlink(writable.c_str(), link.c_str()) == 0);
  });
  with("ca_file", ca, "is writable by group or others (mode 0666); run: chmod go-w",
       [&] { BOOST_REQUIRE(::chmod(ca.c_str(), 0666) == 0); });
  BOOST_REQUIRE(::chmod(ca.c_str(), 0644) == 0);
  if (::geteuid() == 0) {
    with("ca_file", ca, "is owned by uid 65534; it must be owned by root",
         [&] { BOOST_REQUIRE(::chown(ca.c_str(), 65534, 65534) == 0); });
    BOOST_REQUIRE(::chown(ca.c_str(), 0, 0) == 0);
  } else {
    BOOST_TEST_MESSAGE("skipped the owner case: changing a file's owner needs root (CI runs as root)");
  }
  const std::string key = pam.dir() + "/client.key";
  with("client_key", key, "holds secrets and is readable by others; run: chmod o-r", [&] {
    std::ifstream in(Shared::pki().server_key);
    std::ofstream out(key);
    out << in.rdbuf();
    out.close();
    BOOST_REQUIRE(::chmod(key.c_str(), 0644) == 0);
  });
  with("pinned_public_key", link, "is a symbolic link; refusing to follow it (O_NOFOLLOW)", [] {});
  with("pinned_public_key", ca + ".missing", "cannot open: No such file or directory", [] {});
}

BOOST_AUTO_TEST_CASE(a_pin_file_holds_the_providers_key) {
  // The server's public key, as `openssl x509 -pubkey` writes it.
  const std::string pub = pam.dir() + "/provider.pub";
  {
    FILE* f = std::fopen(Shared::pki().server_cert.c_str(), "r");
    BOOST_REQUIRE(f != nullptr);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    FILE* out = std::fopen(pub.c_str(), "w");
    PEM_write_PUBKEY(out, X509_get0_pubkey(cert));
    std::fclose(out);
    X509_free(cert);
  }
  pam.write_config(pam.default_config("pinned_public_key = \"" + pub + "\""));
  const auto right = pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")});
  BOOST_TEST_INFO(right.describe());
  BOOST_TEST(right.rc == PAM_SUCCESS);
  // Not a public key at all.
  pam.write_config(pam.default_config("pinned_public_key = \"" + pam.users_path() + "\""));
  const auto wrong = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST(wrong.rc == PAM_SERVICE_ERR);
  BOOST_TEST(wrong.logged("holds no public key (PEM or DER)"));
}

// Relative paths would be resolved against the PAM application's working
// directory, which under sudo is the invoking user's.
BOOST_AUTO_TEST_CASE(every_configured_path_is_absolute) {
  for (const std::string key : {"users_file", "secrets_file", "ca_file", "client_cert", "client_key"}) {
    std::string text = pam.default_config();
    if (const auto at = text.find(key + " = "); at != std::string::npos) text.erase(at, text.find('\n', at) + 1 - at);
    pam.write_config(key + " = \"relative/file\"\n" + text);
    const auto r = pam.authenticate("alice", {say("alice-password")});
    BOOST_TEST_INFO(key << "\n" << r.describe());
    BOOST_TEST(r.rc == PAM_SERVICE_ERR);
    BOOST_TEST(r.logged("key '" + key + "': must be an absolute path"));
  }
  pam.module_args = "config=relative/pam_otp.conf";
  const auto r = pam.authenticate("alice", {say("alice-password")});
  BOOST_TEST(r.rc == PAM_SERVICE_ERR);
  BOOST_TEST(r.logged("key 'config': must be an absolute path"));
}

// ca_path: a directory of hashed certificates (openssl rehash), which
// OpenSSL reads as a chain needs them; trusted only when nobody but root can
// change it, and never beside ca_file.
BOOST_AUTO_TEST_CASE(a_hashed_ca_directory_is_trusted_when_safe) {
  const std::string dir = pam.dir() + "/certs";
  BOOST_REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  std::string pem;
  {
    std::ifstream in(Shared::pki().ca_cert);
    pem.assign(std::istreambuf_iterator<char>(in), {});
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  BOOST_REQUIRE(cert != nullptr);
  char name[16];
  std::snprintf(name, sizeof name, "%08lx.0", X509_subject_name_hash(cert));
  X509_free(cert);
  const std::string hashed = dir + "/" + name;
  std::ofstream(hashed) << pem;
  ::chmod(hashed.c_str(), 0644);
  auto config = [&](const std::string& path) {
    std::string text = pam.default_config("ca_path = \"" + path + "\"");
    text.erase(text.find("ca_file = \"" + Shared::pki().ca_cert + "\"\n"),
               std::string("ca_file = \"\"\n").size() + Shared::pki().ca_cert.size());
    pam.write_config(text);
  };
  config(dir);
  const auto r = pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")});
  BOOST_TEST(r.rc == PAM_SUCCESS, r.describe());

  // Without the certificate, the provider is untrusted.
  const std::string empty = pam.dir() + "/no-certs";
  BOOST_REQUIRE(::mkdir(empty.c_str(), 0755) == 0);
  config(empty);
  const auto untrusted = pam.authenticate("alice", {say("alice-password"), code_for("+15551234567")});
  BOOST_TEST(untrusted.rc == PAM_AUTHINFO_UNAVAIL, untrusted.describe());
  BOOST_TEST(untrusted.logged("result=untrusted_provider"));

  // A certificate anyone may change, a directory anyone may write to: refused.
  Shared::mock().reset();
  ::chmod(hashed.c_str(), 0666);
  config(dir);
  expect_refused(pam.config_path() + ":2", "key 'ca_path': '" + dir + "' holds " + name +
                                               ", owned by another user or writable by group or others");
  ::chmod(hashed.c_str(), 0644);
  ::chmod(dir.c_str(), 0777);
  expect_refused(pam.config_path() + ":2",
                 "key 'ca_path': '" + dir + "' must be owned by root and not writable by group or others");
  ::chmod(dir.c_str(), 0755);
  // Not beside ca_file.
  pam.write_config(pam.default_config("ca_path = \"" + dir + "\""));
  expect_refused(pam.config_path() + ":3", "key 'ca_path': set ca_file or ca_path, not both");
}

BOOST_AUTO_TEST_SUITE_END()
