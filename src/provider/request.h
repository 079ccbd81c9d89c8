// Turning a step's templates into an HTTP request. Values are inserted as
// typed JSON or percent-encoded text, so nothing a user types can change the
// request's structure; header values with line breaks are refused.
#pragma once

#include <string>

#include "http/transport.h"
#include "provider/spec.h"
#include "provider/template.h"

namespace otp::provider {

// Throws TemplateError (undefined variable, bad header value, ...).
http::Request build_request(const ProviderSpec& spec, const Step& step, const std::string& base,
                            const VariableSource& vars);

bool is_absolute_url(std::string_view url_template);

}  // namespace otp::provider
