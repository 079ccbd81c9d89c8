#include "base/json.h"

#include <boost/test/unit_test.hpp>

using namespace otp;

BOOST_AUTO_TEST_SUITE(json_helpers)

BOOST_AUTO_TEST_CASE(parses_strictly) {
  BOOST_TEST(json::parse("{\"a\":1}").has_value());
  BOOST_TEST(!json::parse("{\"a\":1} trailing").has_value());
  BOOST_TEST(!json::parse("{\"a\":1,}").has_value());
  BOOST_TEST(!json::parse("").has_value());
  BOOST_TEST(!json::parse("{\"a\":").has_value());
  BOOST_TEST(!json::parse(std::string(200, '[') + std::string(200, ']')).has_value());  // nesting bound
}

BOOST_AUTO_TEST_CASE(resolves_pointers) {
  const auto doc = *json::parse(R"({"a":{"b/c":[10,{"d~e":"x"}]},"":5})");
  BOOST_TEST(json::resolve(doc, "/a/b~1c/0")->asInt() == 10);
  BOOST_TEST(json::resolve(doc, "/a/b~1c/1/d~0e")->asString() == "x");
  BOOST_TEST(json::resolve(doc, "")->isObject());
  BOOST_TEST(json::resolve(doc, "/")->asInt() == 5);
  BOOST_TEST(json::resolve(doc, "/a/missing") == nullptr);
  BOOST_TEST(json::resolve(doc, "/a/b~1c/2") == nullptr);
  BOOST_TEST(json::resolve(doc, "/a/b~1c/01") == nullptr);
  BOOST_TEST(json::resolve(doc, "a") == nullptr);
  BOOST_TEST(!json::valid_pointer("/bad~2"));
}

BOOST_AUTO_TEST_CASE(compares_numbers_by_value_and_other_types_strictly) {
  BOOST_TEST(json::equal(Json::Value(5), Json::Value(5u)));
  BOOST_TEST(json::equal(Json::Value(5), Json::Value(5.0)));
  BOOST_TEST(!json::equal(Json::Value(5), Json::Value("5")));
  BOOST_TEST(!json::equal(Json::Value(true), Json::Value("true")));
  BOOST_TEST(!json::equal(Json::Value(1), Json::Value(true)));
  BOOST_TEST(json::equal(Json::Value("x"), Json::Value("x")));
}

BOOST_AUTO_TEST_CASE(wipe_clears_the_value) {
  Json::Value v;
  v["code"] = "123456";
  v["list"].append("secret");
  json::wipe(v);
  BOOST_TEST(v.isNull());
}

BOOST_AUTO_TEST_SUITE_END()
