#include "provider/blockid_auth.h"

#include <boost/test/unit_test.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "base/base64.h"
#include "provider/template.h"

using namespace otp;
using namespace otp::provider;

namespace {

// A community key pair made here, as the tenant would hold it.
struct Community {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1");
  ~Community() { EVP_PKEY_free(key); }
  std::string public_b64() const {
    unsigned char point[65];
    std::size_t len = 0;
    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point, &len);
    return base64_encode(std::string(reinterpret_cast<char*>(point) + 1, 64));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(blockid_auth)

BOOST_AUTO_TEST_CASE(headers_have_the_documented_shapes) {
  Community community;
  const auto h = blockid_headers(Secret("license"), community.public_b64(), Secret(), "pam_otp", 1700000000);
  BOOST_TEST(base64_decode(h.publickey)->size() == 64u);
  // IV (16) + ciphertext (7) + tag (16)
  BOOST_TEST(base64_decode(h.licensekey.reveal())->size() == 16u + 7u + 16u);
  BOOST_TEST(base64_decode(h.requestid.reveal())->size() > 32u + 20u);
}

BOOST_AUTO_TEST_CASE(a_fixed_private_key_gives_a_fixed_public_key) {
  Community community;
  const Secret priv(base64_encode(std::string(31, '\0') + "\x07"));
  const auto a = blockid_headers(Secret("l"), community.public_b64(), priv, "app", 1);
  const auto b = blockid_headers(Secret("l"), community.public_b64(), priv, "app", 1);
  BOOST_TEST(a.publickey == b.publickey);
  BOOST_TEST(a.licensekey.reveal() != b.licensekey.reveal());  // fresh IV each time
}

BOOST_AUTO_TEST_CASE(bad_keys_are_refused) {
  Community community;
  BOOST_CHECK_THROW(blockid_headers(Secret("l"), "not base64!", Secret(), "a", 1), RequestBuildError);
  BOOST_CHECK_THROW(blockid_headers(Secret("l"), base64_encode(std::string(64, '\x01')), Secret(), "a", 1),
                    RequestBuildError);  // not a point on the curve
  BOOST_CHECK_THROW(blockid_headers(Secret("l"), community.public_b64(), Secret(base64_encode("short")), "a", 1),
                    RequestBuildError);
  BOOST_CHECK_THROW(blockid_headers(Secret("l"), community.public_b64(), Secret(base64_encode(std::string(32, '\0'))), "a", 1),
                    RequestBuildError);  // zero is not a private key
}

BOOST_AUTO_TEST_SUITE_END()
