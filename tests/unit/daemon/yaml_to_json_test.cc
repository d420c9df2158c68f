#include "daemon/manifest/yaml_to_json.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <yaml-cpp/exceptions.h>

#include "daemon/manifest/parser.h"
#include "support/billion_laughs.h"

namespace duet::manifest {
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

TEST(YamlToJson, ParseManifestsNamesTheFileAndTheLimit) {
  try {
    parse_manifests(billion_laughs_yaml(), "lol.yaml");
    FAIL() << "no error";
  } catch (const ApplyError& e) {
    EXPECT_EQ(e.where(), "lol.yaml:6");
    EXPECT_STREQ(e.what(),
                 "lol.yaml:6: expands to more than 100000 YAML nodes (each use of an "
                 "alias counts the whole node)");
  }
}

TEST(YamlToJson, JsonManifestsAreHeldToTheSameDepth) {
  auto error_of = [](int levels) {
    try {
      parse_manifests(std::string(levels, '[') + std::string(levels, ']'), "deep.json");
    } catch (const ApplyError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of(65), "deep.json: nested deeper than 64 levels");
  EXPECT_EQ(error_of(64).find("nested"), std::string::npos) << error_of(64);  // a later error
}

}  // namespace
}  // namespace duet::manifest
