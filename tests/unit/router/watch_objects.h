#pragma once
// Builders for the objects and events of duetd's watch stream (docs/node-api.md), shared by
// the router's unit tests and the fake duetd of its process test.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace duet::router::test {

using nlohmann::json;

inline json size_route(const std::string& name, uint64_t threshold, const std::string& small,
                       const std::string& large, const std::string& prefix = "/v1/",
                       const std::string& model = "") {
  json match = {{"pathPrefix", prefix}};
  if (!model.empty()) match["model"] = model;
  return {
      {"apiVersion", "duet/v1alpha1"},
      {"kind", "Route"},
      {"metadata", {{"name", name}, {"resourceVersion", 1}}},
      {"spec",
       {{"match", match},
        {"sizeRouting", {{"thresholdTokens", threshold}, {"small", small}, {"large", large}}}}}};
}

inline json backend_route(const std::string& name, const std::string& backend,
                          const std::string& prefix = "/v1/", const std::string& model = "") {
  json match = {{"pathPrefix", prefix}};
  if (!model.empty()) match["model"] = model;
  return {{"apiVersion", "duet/v1alpha1"},
          {"kind", "Route"},
          {"metadata", {{"name", name}}},
          {"spec", {{"match", match}, {"backend", backend}}}};
}

inline json deployment(const std::string& name, int canary_weight = 0) {
  return {{"apiVersion", "duet/v1alpha1"},
          {"kind", "EngineDeployment"},
          {"metadata", {{"name", name}}},
          {"spec", {{"replicas", 1}}},
          {"status",
           {{"replicas", 1},
            {"readyReplicas", 1},
            {"observedGeneration", 1},
            {"canaryWeight", canary_weight}}}};
}

inline json engine(const std::string& name, const std::string& deployment_name,
                   const std::string& endpoint, bool ready = true,
                   const std::string& track = "stable") {
  return {{"kind", "Engine"},
          {"name", name},
          {"deployment", deployment_name},
          {"replica", 0},
          {"version", "r1"},
          {"track", track},
          {"state", ready ? "Ready" : "Unready"},
          {"ready", ready},
          {"endpoint", endpoint},
          {"port", 0},
          {"pid", 1},
          {"restarts", 0},
          {"devices", json::array()},
          {"message", ""}};
}

// `epoch`: the snapshot's stateEpoch; none when empty, as from a duetd that sends none.
inline json snapshot(uint64_t version, json routes, json deployments, json engines,
                     const std::string& epoch = "") {
  json event = {{"type", "SNAPSHOT"},
                {"resourceVersion", version},
                {"runtimeclasses", json::array()},
                {"deployments", std::move(deployments)},
                {"routes", std::move(routes)},
                {"engines", std::move(engines)}};
  if (!epoch.empty()) event["stateEpoch"] = epoch;
  return event;
}

// A snapshot of duetd `epoch` at `version` with nothing in it, as after a lost state.
inline json empty_snapshot(uint64_t version, const std::string& epoch) {
  return snapshot(version, json::array(), json::array(), json::array(), epoch);
}

inline json change(const std::string& type, const std::string& kind, uint64_t version,
                   json object) {
  return {
      {"type", type}, {"kind", kind}, {"resourceVersion", version}, {"object", std::move(object)}};
}

}  // namespace duet::router::test
