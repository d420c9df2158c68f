#include "duet/common/yaml_to_json.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <yaml-cpp/exceptions.h>

#include "support/billion_laughs.h"

namespace duet {
namespace {

using nlohmann::json;

using test::billion_laughs_yaml;

// The process's peak resident memory, in KiB (Linux).
long peak_rss_kib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

std::string limit_error(const std::string& text, const YamlLimits& limits = {}) {
  try {
    yaml_documents_to_json(text, limits);
  } catch (const YamlLimitExceeded& e) {
    return "line " + std::to_string(e.line()) + ": " + e.what();
  }
  return "no error";
}

TEST(YamlToJson, ConvertsScalarsAsKubernetesDoes) {
  auto docs = yaml_documents_to_json("a: 2\nb: \"2\"\nc: true\nd: ~\ne: 1.5\nf: text\n---\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], json::parse(R"({"a":2,"b":"2","c":true,"d":null,"e":1.5,"f":"text"})"));
  EXPECT_TRUE(docs[1].is_null());
}

TEST(YamlToJson, ExpandsAliasesWithinTheBudget) {
  auto docs = yaml_documents_to_json(
      "env: &env {A: \"1\", B: x}\none: {env: *env}\ntwo: [*env, *env]\n&k key: v\n*k : w\n");
  ASSERT_EQ(docs.size(), 1u);
  json env = {{"A", "1"}, {"B", "x"}};
  EXPECT_EQ(docs[0]["one"]["env"], env);
  EXPECT_EQ(docs[0]["two"], json::array({env, env}));
  EXPECT_EQ(docs[0]["key"], "w");  // an alias of a scalar as a key: the same key again
}

TEST(YamlToJson, BillionLaughsStopsEarlyWithBoundedMemory) {
  auto before = peak_rss_kib();
  EXPECT_EQ(limit_error(billion_laughs_yaml()),
            "line 6: expands to more than 100000 YAML nodes (each use of an alias counts the whole "
            "node)");
  // Refused before the copies are made: far below the gigabytes a full expansion takes.
  EXPECT_LT(peak_rss_kib() - before, 64 * 1024);
}

TEST(YamlToJson, StringBytesCountEachAliasUse) {
  std::string text = "big: &big \"" + std::string(1000, 'x') + "\"\nuses: [*big, *big, *big]\n";
  EXPECT_EQ(limit_error(text, {.max_string_bytes = 2500}),
            "line 2: expands to more than 2500 bytes of strings (each use of an alias counts them "
            "again)");
  EXPECT_EQ(limit_error(text, {.max_string_bytes = 5000}), "no error");
}

TEST(YamlToJson, NestingIsLimitedForTextAndForAliases) {
  auto nested = [](int levels) { return std::string(levels, '[') + std::string(levels, ']'); };
  EXPECT_EQ(limit_error(nested(64)), "no error");
  EXPECT_EQ(limit_error(nested(65)), "line 1: nested deeper than 64 levels");
  // 40 levels, used 30 levels down: 70 once expanded.
  std::string text = "a: &deep " + nested(40) + "\nb: " + std::string(29, '[') + "*deep" +
                     std::string(29, ']') + "\n";
  EXPECT_EQ(limit_error(text), "line 2: nested deeper than 64 levels");
}

TEST(YamlToJson, AliasUsesAreCounted) {
  EXPECT_EQ(limit_error("a: &a x\nb: [*a, *a, *a]\n", {.max_aliases = 2}),
            "line 2: uses aliases more than 2 times");
}

TEST(YamlToJson, AnAliasInsideItsOwnNodeIsAnError) {
  // A Node-based walk of this recurses until the stack overflows.
  EXPECT_THROW(yaml_documents_to_json("a: &a [x, *a]\n"), YAML::Exception);
  EXPECT_THROW(yaml_documents_to_json("? [a, b]\n: c\n"), YAML::Exception);  // a non-scalar key
}

TEST(YamlToJson, IntegersPastInt64StayExact) {
  auto docs = yaml_documents_to_json("a: 18446744073709551615\nb: -9223372036854775808\n"
                                     "c: 18446744073709551616\n");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_TRUE(docs[0]["a"].is_number_unsigned());
  EXPECT_EQ(docs[0]["a"].get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(docs[0]["b"].get<int64_t>(), INT64_MIN);
  EXPECT_TRUE(docs[0]["c"].is_number_float());  // past uint64: a double, as JSON reads it
}

std::string config_error(const std::string& text) {
  try {
    yaml_config_document(text, "c.yaml");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(YamlConfigDocument, IsTheOneDocumentOrEmpty) {
  EXPECT_EQ(yaml_config_document("", "c.yaml"), json::object());
  EXPECT_EQ(yaml_config_document("---\n", "c.yaml"), json::object());
  EXPECT_EQ(yaml_config_document("---\na: 1\n---\n", "c.yaml"), json::parse(R"({"a":1})"));
  EXPECT_EQ(config_error("a: 1\n---\nb: 2\n"), "c.yaml: expected one YAML document, got 2");
}

TEST(YamlConfigDocument, NamesTheFileAndLine) {
  EXPECT_EQ(config_error("a: 1\nb: [\n"), "c.yaml:3: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(config_error(billion_laughs_yaml()),
            "c.yaml:6: expands to more than 100000 YAML nodes (each use of an alias counts the "
            "whole node)");
}

}  // namespace
}  // namespace duet
