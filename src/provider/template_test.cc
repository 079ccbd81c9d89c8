#include "provider/template.h"

#include <boost/test/unit_test.hpp>

#include <map>

#include "base/json.h"

using namespace otp;
using namespace otp::provider;

namespace {

struct MapVars : VariableSource {
  std::map<std::string, Json::Value, std::less<>> values;
  std::optional<Json::Value> lookup(std::string_view name) const override {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

MapVars sample() {
  MapVars v;
  v.values["user"] = "alice";
  v.values["phone"] = "+15551234567";
  v.values["minutes"] = 5;
  v.values["flag"] = true;
  v.values["empty"] = "";
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(templates)

BOOST_AUTO_TEST_CASE(expands_text) {
  const auto v = sample();
  BOOST_TEST(expand_text("Hello ${user}, ${minutes} min", v) == "Hello alice, 5 min");
  BOOST_TEST(expand_text("$${user} is literal", v) == "${user} is literal");
  BOOST_TEST(expand_text("no vars", v) == "no vars");
}

BOOST_AUTO_TEST_CASE(modifiers) {
  const auto v = sample();
  BOOST_TEST(expand_text("[${missing?}]", v) == "[]");
  BOOST_TEST(expand_text("${missing:-fallback ${user}}", v) == "fallback alice");
  BOOST_TEST(expand_text("${empty:-fallback}", v) == "fallback");
  BOOST_TEST(expand_text("${user:-fallback}", v) == "alice");
  BOOST_TEST(expand_text("id${user:+:${user}}", v) == "id:alice");
  BOOST_TEST(expand_text("id${missing:+:${missing}}", v) == "id");
  BOOST_CHECK_THROW(expand_text("${missing}", v), TemplateError);
}

BOOST_AUTO_TEST_CASE(filters) {
  const auto v = sample();
  BOOST_TEST(expand_text("${phone|country_code} ${phone|national}", v) == "1 5551234567");
  BOOST_TEST(expand_text("${user|upper}", v) == "ALICE");
  BOOST_TEST(expand_text("${phone|digits}", v) == "15551234567");
  BOOST_CHECK_THROW(expand_text("${user|national}", v), TemplateError);
  BOOST_TEST(check_template("${user|nosuch}").has_value());
}

// slice(start[,end]) as in Python, by bytes: Descope's region is
// ${project_id|slice(1,-27)}, empty for ids of 28 characters or fewer.
BOOST_AUTO_TEST_CASE(slice_filter) {
  MapVars v;
  v.values["short"] = "P2pamotpTEST0000000000000000";             // 28
  v.values["euc1"] = "Peuc1" + std::string(27, '0');              // 32
  v.values["long"] = "Peuc12pa" + std::string(27, '0');           // 35
  BOOST_TEST(expand_text("${short|slice(1,-27)}", v) == "");
  BOOST_TEST(expand_text("${euc1|slice(1,-27)}", v) == "euc1");
  BOOST_TEST(expand_text("${long|slice(1,-27)}", v) == "euc12pa");
  BOOST_TEST(expand_text("${euc1|slice(1,3)}", v) == "eu");
  BOOST_TEST(expand_text("${euc1|slice(-4)}", v) == "0000");
  BOOST_TEST(expand_text("${euc1|slice(40)}", v) == "");
  BOOST_TEST(expand_text("${euc1|slice(1,-27)|upper}", v) == "EUC1");
  BOOST_TEST(expand_text("https://api.${euc1|slice(1,-27):+${euc1|slice(1,-27)}.}descope.com", v) ==
             "https://api.euc1.descope.com");
  BOOST_TEST(check_template("${x|slice}").has_value());          // needs an argument
  BOOST_TEST(check_template("${x|slice(1,2,3)}").has_value());   // at most two
  BOOST_TEST(check_template("${x|upper(1)}").has_value());       // takes none
  BOOST_TEST(check_template("${x|slice(a)}").has_value());
  BOOST_TEST(check_template("${x|slice(1,)}").has_value());
  BOOST_TEST(!check_template("${x|slice(-1)}").has_value());
}

BOOST_AUTO_TEST_CASE(whole_value_keeps_its_type) {
  const auto v = sample();
  BOOST_TEST(expand_value("${minutes}", v)->isInt());
  BOOST_TEST(expand_value("${flag}", v)->isBool());
  BOOST_TEST(expand_value("${minutes} min", v)->isString());
  BOOST_TEST(!expand_value("${missing?}", v).has_value());
  BOOST_TEST(expand_value("${minutes|string}", v)->asString() == "5");
}

BOOST_AUTO_TEST_CASE(json_template_omits_undefined_optionals) {
  const auto v = sample();
  const auto tmpl = *json::parse(R"({"phone_number":"${phone}","expiration_minutes":"${minutes}",
      "locale":"${locale?}","attributes":{"user":"${user}"},"list":["${user}","${none?}"]})");
  const Json::Value out = expand_json(tmpl, v);
  BOOST_TEST(out["phone_number"].asString() == "+15551234567");
  BOOST_TEST(out["expiration_minutes"].isInt());
  BOOST_TEST(!out.isMember("locale"));
  BOOST_TEST(out["attributes"]["user"].asString() == "alice");
  BOOST_TEST(out["list"].size() == 1u);
}

BOOST_AUTO_TEST_CASE(values_cannot_change_structure) {
  MapVars v;
  v.values["user"] = "al\"ice\\\n${code}\",\"admin\":true";
  v.values["code"] = "123456";
  const auto tmpl = *json::parse(R"({"user":"${user}","note":"user ${user}"})");
  const Json::Value out = expand_json(tmpl, v);
  BOOST_TEST(out.size() == 2u);
  BOOST_TEST(out["user"].asString() == v.values["user"].asString());
  BOOST_TEST(!out.isMember("admin"));
  // Inserted text is data: "${code}" inside a value is not expanded again.
  BOOST_TEST(out["note"].asString().find("${code}") != std::string::npos);
  const auto reparsed = json::parse(json::to_string(out));
  BOOST_TEST(reparsed.has_value());
  BOOST_TEST((*reparsed)["user"].asString() == v.values["user"].asString());
}

BOOST_AUTO_TEST_CASE(url_encoding_applies_to_values_only) {
  MapVars v;
  v.values["sid"] = "VA/../x?y=1#z";
  BOOST_TEST(expand_text("/v2/Services/${sid}/Verifications", v, Encoding::Url) ==
             "/v2/Services/VA%2F%2E%2E%2Fx%3Fy%3D1%23z/Verifications");
  BOOST_TEST(expand_text("/a.b/${sid}", v, Encoding::Plain) == "/a.b/VA/../x?y=1#z");
}

// A value (a hostile provider's transaction_id) must not form a "." or ".."
// path segment, alone or next to another value.
BOOST_AUTO_TEST_CASE(values_cannot_form_dot_segments) {
  MapVars v;
  v.values["tx"] = "..";
  v.values["dot"] = ".";
  BOOST_TEST(expand_text("/v1/otp/verify/${tx}/check", v, Encoding::Url) == "/v1/otp/verify/%2E%2E/check");
  BOOST_TEST(expand_text("/v1/${dot}${dot}/check", v, Encoding::Url) == "/v1/%2E%2E/check");
  BOOST_TEST(expand_text("/v1/${dot}/check", v, Encoding::Url) == "/v1/%2E/check");
}

BOOST_AUTO_TEST_CASE(syntax_errors_are_reported) {
  BOOST_TEST(check_template("${unclosed").has_value());
  BOOST_TEST(check_template("${}").has_value());
  BOOST_TEST(check_template("${1abc}").has_value());
  BOOST_TEST(check_template("${a:-${b}").has_value());
  BOOST_TEST(check_template("a } b").has_value() == false);  // a lone '}' at top level is text
  std::vector<std::string> names;
  BOOST_TEST(!check_template("${a} ${b:-${c}}", &names).has_value());
  BOOST_TEST(names.size() == 3u);
}

// Found by fuzz_template: expanding an unchecked template with an unknown
// filter read past the filter table.
BOOST_AUTO_TEST_CASE(unknown_filters_throw_when_expanded) {
  const auto v = sample();
  BOOST_CHECK_THROW(expand_text("${user|nosuch}", v), TemplateError);
  BOOST_CHECK_THROW(expand_text("${phone|n|country_codeational}", v, Encoding::Url), TemplateError);
  BOOST_CHECK_THROW(expand_value("${minutes|nosuch}", v), TemplateError);
  BOOST_TEST(expand_text("[${missing|nosuch?}]", v) == "[]");  // never applied: no value
}

BOOST_AUTO_TEST_CASE(splits_e164_numbers) {
  BOOST_TEST(split_e164("+15551234567")->first == "1");
  BOOST_TEST(split_e164("+919876543210")->first == "91");
  BOOST_TEST(split_e164("+919876543210")->second == "9876543210");
  BOOST_TEST(split_e164("+447700900123")->first == "44");
  BOOST_TEST(split_e164("+351912345678")->first == "351");
  BOOST_TEST(split_e164("+79161234567")->first == "7");
  BOOST_TEST(!split_e164("5551234567").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
