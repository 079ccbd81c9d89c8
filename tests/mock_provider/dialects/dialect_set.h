// All six provider dialects of one MockProvider, with the BlockID community
// key they need. Their paths are distinct, so one mock serves them all.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dialects/blockid_crypto.h"
#include "dialects/dialect.h"

namespace otp::mock {

class DialectSet {
 public:
  // blockid_private_key: see MockOptions. Throws std::invalid_argument.
  explicit DialectSet(const std::string& blockid_private_key);

  const std::vector<std::unique_ptr<Dialect>>& all() const { return dialects_; }
  const std::string& community_public_key() const { return community_public_key_; }
  void expire_codes();
  void reset();

 private:
  CommunityKey community_;  // before dialects_: BlockID keeps a reference
  std::string community_public_key_;
  std::vector<std::unique_ptr<Dialect>> dialects_;
};

}  // namespace otp::mock
