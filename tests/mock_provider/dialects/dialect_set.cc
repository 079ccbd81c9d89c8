#include "dialects/dialect_set.h"

namespace otp::mock {

DialectSet::DialectSet(const std::string& blockid_private_key)
    : community_(blockid_private_key), community_public_key_(community_.public_key()) {
  dialects_.push_back(make_stytch());
  dialects_.push_back(make_descope());
  dialects_.push_back(make_twilio());
  dialects_.push_back(make_privacyidea());
  dialects_.push_back(make_blockid(community_));
  dialects_.push_back(make_baanx());
}

void DialectSet::expire_codes() {
  for (auto& d : dialects_) d->expire_codes();
}

void DialectSet::reset() {
  for (auto& d : dialects_) d->reset();
}

}  // namespace otp::mock
