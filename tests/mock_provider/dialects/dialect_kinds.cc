// The one list of the mock's provider dialects. A new dialect is its file
// (dialects/NAME.cc, which defines its DialectKind), its settings in
// dialects.h, and a line here (docs/design.md, "Adding a provider").
#include "dialects/dialect.h"

namespace otp::mock {

extern const DialectKind kStytchDialect, kDescopeDialect, kTwilioDialect, kPrivacyIdeaDialect,
    kBlockIdDialect, kBaanxDialect;

const std::vector<const DialectKind*>& dialect_kinds() {
  static const std::vector<const DialectKind*> kinds{&kStytchDialect,      &kDescopeDialect, &kTwilioDialect,
                                                     &kPrivacyIdeaDialect, &kBlockIdDialect, &kBaanxDialect};
  return kinds;
}

}  // namespace otp::mock
