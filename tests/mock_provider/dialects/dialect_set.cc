#include "dialects/dialect_set.h"

namespace otp::mock {

DialectSet::DialectSet(const std::string& blockid_private_key)
    : community_(blockid_private_key), community_public_key_(community_.public_key()) {
  const DialectSetup setup{community_};
  for (const DialectKind* kind : dialect_kinds()) dialects_.push_back(kind->make(setup));
}

void DialectSet::expire_codes() {
  for (auto& d : dialects_) d->expire_codes();
}

void DialectSet::reset() {
  for (auto& d : dialects_) d->reset();
}

}  // namespace otp::mock
