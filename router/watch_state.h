#pragma once
// What one duetd has told the router through its watch stream (docs/node-api.md): its
// routes, deployments and engines, rebuilt from a SNAPSHOT and updated by each change.
// Plain data, no I/O: the source watcher owns one per duetd, on the control thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace duet::router {

enum class Track : uint8_t { stable, canary };
const char* to_string(Track track);

struct SizeRouting {
  uint64_t threshold_tokens = 0;
  std::string small;
  std::string large;
};

// A Route's spec as the router uses it.
struct RouteSpec {
  std::string name;
  std::string path_prefix = "/v1/";
  std::string model;  // empty: any model
  std::optional<SizeRouting> size_routing;
  std::string backend;              // set when size_routing is not
  std::string canary_header_name;   // its value forces canary, "false" forces stable
  std::string canary_header_value;
  std::string stickiness_claim;     // JWT claim hashed for the version split
  unsigned attempts = 2;            // tries before the first response byte
  std::chrono::seconds first_byte_timeout{60};
  std::chrono::seconds idle_timeout{120};
};

struct DeploymentInfo {
  std::string name;
  uint32_t canary_weight = 0;  // percent, from status.canaryWeight
};

struct EngineInfo {
  std::string name;  // the replica name, also what duet-sim puts in x-duet-replica
  std::string deployment;
  Track track = Track::stable;
  bool ready = false;
  std::string endpoint;  // HOST:PORT
  std::string state;
  std::string version;  // the deployment's spec.version it runs
};

// Parse one object of the stream; throw std::runtime_error naming the field when it is
// unusable (the stream comes from a trusted duetd, but a bad object must not stop the router).
RouteSpec parse_route(const nlohmann::json& object);
DeploymentInfo parse_deployment(const nlohmann::json& object);
EngineInfo parse_engine(const nlohmann::json& object);

struct ApplyResult {
  bool changed = false;              // something the routing table uses changed
  std::vector<std::string> skipped;  // objects that could not be used, with why
};

class SourceState {
 public:
  // Applies one event line: SNAPSHOT replaces everything, ADDED/MODIFIED/DELETED change one
  // object, BOOKMARK only moves the resourceVersion. Throws std::runtime_error when the
  // line itself is not a watch event.
  ApplyResult apply(const nlohmann::json& event);

  bool synced() const { return synced_; }  // a SNAPSHOT has been applied
  uint64_t resource_version() const { return resource_version_; }
  // The snapshot's stateEpoch: which life of duetd's state the resourceVersion counts in
  // (empty from a duetd that does not send one).
  const std::string& state_epoch() const { return state_epoch_; }
  // The node's name from the last SNAPSHOT (`node`); empty when it sent none or one that is
  // not a host name's characters (it goes into a response header).
  const std::string& node() const { return node_; }
  // Holds something to route with: a Route and an EngineDeployment.
  bool routable() const { return !routes_.empty() && !deployments_.empty(); }
  const std::map<std::string, RouteSpec>& routes() const { return routes_; }
  const std::map<std::string, DeploymentInfo>& deployments() const { return deployments_; }
  const std::map<std::string, EngineInfo>& engines() const { return engines_; }

 private:
  ApplyResult apply_snapshot(const nlohmann::json& event);
  ApplyResult apply_change(const std::string& type, const nlohmann::json& event);

  bool synced_ = false;
  uint64_t resource_version_ = 0;
  std::string state_epoch_;
  std::string node_;
  std::map<std::string, RouteSpec> routes_;
  std::map<std::string, DeploymentInfo> deployments_;
  std::map<std::string, EngineInfo> engines_;
};

}  // namespace duet::router
