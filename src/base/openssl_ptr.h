// Owning pointers for OpenSSL objects, each freed with its own function
// (jwt.cc, blockid_auth.cc).
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>

namespace otp::ossl {

template <class T, void (*Free)(T*)>
struct Freer {
  void operator()(T* p) const { Free(p); }
};

template <class T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Freer<T, Free>>;

using Pkey = Ptr<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtx = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using Bignum = Ptr<BIGNUM, BN_clear_free>;  // cleared when freed: it may be a private key
using ParamBld = Ptr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using Params = Ptr<OSSL_PARAM, OSSL_PARAM_free>;

}  // namespace otp::ossl
