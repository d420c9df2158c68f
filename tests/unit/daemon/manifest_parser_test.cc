#include "daemon/manifest/parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "duet/api/field_reader.h"
#include "support/billion_laughs.h"

namespace duet::manifest {
namespace {

std::string demo_yaml() {
  std::ifstream in(std::string(DUET_SOURCE_DIR) + "/manifests/examples/demo.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The error a document gets, as `where: message`.
std::string error_of(const std::string& text) {
  try {
    parse_manifests(text, "chat.yaml");
  } catch (const ApplyError& e) {
    return e.what();
  }
  return "no error";
}

const char* kDeployment = R"(
apiVersion: duet/v1alpha1
kind: EngineDeployment
metadata: {name: chat-small}
spec:
  runtimeClassName: npu
  replicas: 2
  template:
    command: [duet-sim, --port, "${PORT}"]
)";

TEST(ManifestParser, ReadsTheDemo) {
  auto objects = parse_manifests(demo_yaml(), "demo.yaml");
  ASSERT_EQ(objects.size(), 7u);
  EXPECT_EQ(kind_of(objects[0].object), "RuntimeClass");
  const auto& small = std::get<EngineDeployment>(objects[4].object);
  EXPECT_EQ(small.metadata.name, "chat-small");
  EXPECT_EQ(small.replicas, 2);
  EXPECT_EQ(small.engine.command[2], "${PORT}");
  ASSERT_TRUE(small.engine.readiness);
  EXPECT_EQ(small.engine.readiness->period_seconds, 2);
  const auto& route = std::get<Route>(objects[6].object);
  ASSERT_TRUE(route.size_routing);
  EXPECT_EQ(route.size_routing->threshold_tokens, 2048u);
  EXPECT_EQ(route.size_routing->small, "chat-small");
  EXPECT_EQ(route.size_routing->large, "chat-large");
}

TEST(ManifestParser, FillsDefaults) {
  auto d = std::get<EngineDeployment>(parse_manifests(kDeployment, "x.yaml").at(0).object);
  EXPECT_EQ(d.version, "v1");
  EXPECT_EQ(d.devices, 0);
  EXPECT_EQ(d.strategy.type, api::StrategyType::canary);
  EXPECT_EQ(d.engine.termination_grace_seconds, 30);
}

TEST(ManifestParser, ReadsResourceLimits) {
  auto with = [](const std::string& limits) {
    return std::string(kDeployment) + "  resources: {devices: 1, limits: " + limits + "}\n";
  };
  auto d = std::get<EngineDeployment>(parse_manifests(with("{memory: 64Gi, pids: 4096}"), "x.yaml").at(0).object);
  EXPECT_EQ(d.limits.memory_bytes, 64ull << 30);
  EXPECT_EQ(d.limits.pids, 4096u);
  // Stored and watched as bytes; a deployment without limits shows none (its revision is
  // the one it had before limits existed).
  EXPECT_EQ(to_json(d)["spec"]["resources"]["limits"], (nlohmann::json{{"memory", 64ull << 30}, {"pids", 4096}}));
  auto plain = std::get<EngineDeployment>(parse_manifests(kDeployment, "x.yaml").at(0).object);
  EXPECT_TRUE(plain.limits.empty());
  EXPECT_FALSE(to_json(plain)["spec"]["resources"].contains("limits"));
  EXPECT_EQ(std::get<EngineDeployment>(parse_manifests(with("{memory: 1073741824}"), "x.yaml").at(0).object)
                .limits.memory_bytes,
            1u << 30);

  EXPECT_EQ(error_of(with("{memory: 12GB}")),
            "chat.yaml[0] spec.resources.limits.memory: unknown unit \"GB\" in \"12GB\": expected Ki, Mi, "
            "Gi, Ti, k, M, G or T");
  EXPECT_EQ(error_of(with("{memory: 1Mi}")),
            "chat.yaml[0] spec.resources.limits.memory: must be at least 4Mi, got \"1Mi\"");
  EXPECT_EQ(error_of(with("{memory: [1]}")),
            "chat.yaml[0] spec.resources.limits.memory: expected a quantity like \"64Gi\", got a list");
  EXPECT_EQ(error_of(with("{pids: 0}")), "chat.yaml[0] spec.resources.limits.pids: must be between 1 and 4194304, got 0");
  // `pids:` with no value is unset, like any null field; it was stored as 0, which the next
  // read (a checkpoint at restart) refused (found by the manifest fuzz target).
  auto null_pids = std::get<EngineDeployment>(parse_manifests(with("{memory: 512Mi, pids: }"), "x.yaml").at(0).object);
  EXPECT_FALSE(null_pids.limits.pids.has_value());
  EXPECT_EQ(to_json(null_pids)["spec"]["resources"]["limits"], (nlohmann::json{{"memory", 512ull << 20}}));
  EXPECT_EQ(error_of(with("{cpu: 2}")), "chat.yaml[0] spec.resources.limits.cpu: unknown field");
}

TEST(ManifestParser, NamesFileDocumentAndField) {
  std::string text = std::string("apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: npu}\nhandler: ascend\n---") + kDeployment;
  auto bad = text;
  bad.replace(bad.find("replicas: 2"), 11, "replicas: two");
  EXPECT_EQ(error_of(bad), "chat.yaml[1] spec.replicas: expected integer, got \"two\"");
  bad = text;
  bad.replace(bad.find("replicas: 2"), 11, "replicas: \"2\"");
  EXPECT_EQ(error_of(bad), "chat.yaml[1] spec.replicas: expected integer, got \"2\"");
}

TEST(ManifestParser, RejectsEveryKindOfMistake) {
  std::string d = kDeployment;
  auto with = [&](const std::string& from, const std::string& to) {
    auto copy = d;
    copy.replace(copy.find(from), from.size(), to);
    return error_of(copy);
  };
  EXPECT_EQ(with("replicas: 2", "replicas: 2\n  replica: 3"), "chat.yaml[0] spec.replica: unknown field");
  EXPECT_EQ(with("  runtimeClassName: npu\n", ""),
            "chat.yaml[0] spec.runtimeClassName: required field is missing");
  EXPECT_EQ(with("replicas: 2", "replicas: -1"),
            "chat.yaml[0] spec.replicas: must be between 0 and 1024, got -1");
  EXPECT_EQ(with("command: [duet-sim, --port, \"${PORT}\"]", "command: duet-sim"),
            "chat.yaml[0] spec.template.command: expected a list, got \"duet-sim\"");
  EXPECT_EQ(with("command: [duet-sim, --port, \"${PORT}\"]", "command: []"),
            "chat.yaml[0] spec.template.command: must not be empty");
  EXPECT_EQ(with("kind: EngineDeployment", "kind: Pod"),
            "chat.yaml[0] kind: unknown kind \"Pod\" (expected RuntimeClass, EngineDeployment or Route)");
  EXPECT_EQ(with("name: chat-small", "name: Chat_Small"),
            "chat.yaml[0] metadata.name: \"Chat_Small\" is not a valid name (lower-case letters, digits, '-')");
  EXPECT_EQ(with("name: chat-small", "name: chat-canary"),
            "chat.yaml[0] metadata.name: \"chat-canary\" ends in -canary, which names canary replicas");
  EXPECT_EQ(with("apiVersion: duet/v1alpha1", "apiVersion: duet/v2"),
            "chat.yaml[0] apiVersion: expected \"duet/v1alpha1\", got \"duet/v2\"");
  EXPECT_EQ(with("replicas: 2", "replicas: 2\n  strategy: {type: Canary, canary: {steps: [{setWeight: 10, pause: {}}]}}"),
            "chat.yaml[0] spec.strategy.canary.steps[0]: a step has exactly one of setWeight and pause");
  // A null setWeight is no weight (it was a step to 0 %).
  EXPECT_EQ(with("replicas: 2", "replicas: 2\n  strategy: {type: Canary, canary: {steps: [{setWeight: }]}}"),
            "chat.yaml[0] spec.strategy.canary.steps[0]: a step has exactly one of setWeight and pause");
  EXPECT_EQ(with("replicas: 2", "replicas: 2\n  strategy: {canary: {steps: [{pause: {duration: soon}}]}}"),
            "chat.yaml[0] spec.strategy.canary.steps[0].pause.duration: \"soon\" is not a duration (like 30s, 5m, 1h, 500ms)");
}

TEST(ManifestParser, RuntimeClassNeedsAKnownHandler) {
  EXPECT_EQ(error_of("apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: x}\nhandler: tpu\n"),
            "chat.yaml[0] handler: unknown handler \"tpu\" (expected ascend, nvidia, mlu or cpu)");
}

TEST(ManifestParser, RouteHasExactlyOneOfSizeRoutingAndBackend) {
  const char* both = "apiVersion: duet/v1alpha1\nkind: Route\nmetadata: {name: r}\nspec:\n  backend: a\n"
                     "  sizeRouting: {thresholdTokens: 10, small: a, large: b}\n";
  EXPECT_EQ(error_of(both), "chat.yaml[0] spec: a Route has exactly one of sizeRouting and backend");
  const char* none = "apiVersion: duet/v1alpha1\nkind: Route\nmetadata: {name: r}\nspec: {match: {pathPrefix: /v1/}}\n";
  EXPECT_EQ(error_of(none), "chat.yaml[0] spec: a Route has exactly one of sizeRouting and backend");
  // `sizeRouting:` without a value is null: absent, not a size routing with threshold 0 (the
  // manifest fuzz target found it: accepted, stored, then refused by the next restart).
  const char* empty = "apiVersion: duet/v1alpha1\nkind: Route\nmetadata: {name: r}\nspec:\n  sizeRouting:\n";
  EXPECT_EQ(error_of(empty), "chat.yaml[0] spec: a Route has exactly one of sizeRouting and backend");
}

TEST(ManifestParser, SyntaxErrorsNameTheLine) {
  EXPECT_EQ(error_of("kind: Route\nmetadata: {name: r\n"), "chat.yaml:3: invalid YAML: end of map flow not found");
  auto json_error = error_of("{\"kind\": ");
  EXPECT_TRUE(json_error.starts_with("chat.yaml: invalid JSON: ")) << json_error;
}

// Valid JSON that nlohmann still refuses, and a List whose items are no list, used to
// escape parse_manifests as exceptions: duetd answered 500 (issue 15).
TEST(ManifestParser, JsonTheParserRefusesNamesDocumentAndField) {
  EXPECT_EQ(error_of(R"([{"kind":"Route","x":1e309}])"),
            "chat.yaml[0] x: number overflow parsing '1e309'");
  EXPECT_EQ(error_of(R"([{"kind":"Route"},{"spec":{"r":[1,-1e400]}}])"),
            "chat.yaml[1] spec.r[1]: number overflow parsing '-1e400'");
  EXPECT_EQ(error_of(R"({"kind":"Route","x":1e309})"),
            "chat.yaml[0] x: number overflow parsing '1e309'");
  EXPECT_EQ(error_of(R"({"kind":"List","items":5})"), "chat.yaml items: expected a list, got 5");
  EXPECT_EQ(error_of(R"({"kind":7,"items":[]})"), "chat.yaml[0] kind: expected string, got 7");
  EXPECT_EQ(error_of(R"({"apiVersion":"duet/v1alpha1","kind":"Route","metadata":{"name":"r"},)"
                     R"("spec":{"backend":"b","retries":{"attempts":18446744073709551615}}})"),
            "chat.yaml[0] spec.retries.attempts: must be between 1 and 10, got "
            "18446744073709551615");
}

// Valid UTF-8 that yaml-cpp takes for UTF-32 decodes to bytes that are not UTF-8; dumping
// them in the error message threw type_error 316: duetd answered 500 (issue 15).
TEST(ManifestParser, YamlThatDecodesToInvalidUtf8IsRefused) {
  auto error = error_of(std::string("\x01\0\0\0\0\0\0\n", 8));
  EXPECT_TRUE(error.starts_with("chat.yaml:1: invalid YAML: a scalar is not valid UTF-8"))
      << error;
  EXPECT_EQ(api::describe(nlohmann::json(std::string("caf\xE9"))), "\"caf\xEF\xBF\xBD\"");
}

TEST(ManifestParser, JsonInputAndRoundTrip) {
  auto objects = parse_manifests(demo_yaml(), "demo.yaml");
  nlohmann::json list = nlohmann::json::array();
  for (const auto& o : objects) list.push_back(object_to_json(o.object));
  auto again = parse_manifests(list.dump(), "demo.json");
  ASSERT_EQ(again.size(), objects.size());
  for (std::size_t i = 0; i < objects.size(); ++i)
    EXPECT_EQ(object_to_json(again[i].object), object_to_json(objects[i].object));
}

TEST(ManifestParser, Durations) {
  EXPECT_EQ(parse_duration_seconds("30s"), 30);
  EXPECT_EQ(parse_duration_seconds("2m"), 120);
  EXPECT_EQ(parse_duration_seconds("1h"), 3600);
  EXPECT_EQ(parse_duration_seconds("1500ms"), 2);
  EXPECT_THROW(parse_duration_seconds("30"), std::invalid_argument);
  EXPECT_EQ(parse_duration_seconds("8760h"), kMaxDurationSeconds);
  EXPECT_EQ(parse_duration_seconds("31536000000ms"), kMaxDurationSeconds);
}

TEST(ManifestParser, DurationsPastAYearAreTooLong) {
  auto message = [](const std::string& text) {
    try {
      parse_duration_seconds(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("8761h"), "\"8761h\" is too long (max 8760h)");
  EXPECT_EQ(message("3000000h"), "\"3000000h\" is too long (max 8760h)");  // past int64 in ns
  EXPECT_EQ(message("9223372036854775807ms"), "\"9223372036854775807ms\" is too long (max 8760h)");
  EXPECT_EQ(message("99999999999999999999s"), "\"99999999999999999999s\" is too long (max 8760h)");
}

TEST(ManifestParser, ATooLongPauseNamesItsField) {
  std::string text = std::string(kDeployment) +
                     "  strategy:\n    canary:\n      steps:\n      - setWeight: 10\n"
                     "      - pause: {duration: 3000000h}\n";
  EXPECT_EQ(error_of(text),
            "chat.yaml[0] spec.strategy.canary.steps[1].pause.duration: "
            "\"3000000h\" is too long (max 8760h)");
  std::string interval =
      std::string(kDeployment) + "  strategy:\n    canary:\n      analysis: {interval: 9000h}\n";
  EXPECT_EQ(error_of(interval),
            "chat.yaml[0] spec.strategy.canary.analysis.interval: "
            "\"9000h\" is too long (max 8760h)");
}

TEST(ManifestLimits, ParseManifestsNamesTheFileAndTheLimit) {
  try {
    parse_manifests(test::billion_laughs_yaml(), "lol.yaml");
    FAIL() << "no error";
  } catch (const ApplyError& e) {
    EXPECT_EQ(e.where(), "lol.yaml:6");
    EXPECT_STREQ(e.what(),
                 "lol.yaml:6: expands to more than 100000 YAML nodes (each use of an "
                 "alias counts the whole node)");
  }
}

TEST(ManifestLimits, JsonManifestsAreHeldToTheSameDepth) {
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
