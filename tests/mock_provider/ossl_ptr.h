// RAII owners for the OpenSSL objects the mock creates, so that no error
// path can leak a key, a certificate or a BIO.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace otp::mock {

template <auto FreeFn>
struct OsslFree {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using BioPtr = std::unique_ptr<BIO, OsslFree<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, OsslFree<BN_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslFree<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OsslFree<X509_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, OsslFree<X509_EXTENSION_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OsslFree<EVP_PKEY_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OsslFree<EVP_CIPHER_CTX_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, OsslFree<BN_CTX_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, OsslFree<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, OsslFree<EC_POINT_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OsslFree<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, OsslFree<OSSL_PARAM_free>>;

}  // namespace otp::mock
