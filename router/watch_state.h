#pragma once
// What one duetd has told the router through its watch stream (docs/node-api.md): its
// routes, deployments and engines, rebuilt from a SNAPSHOT and updated by each change.
// Plain data, no I/O: the source watcher owns one per duetd, on the control thread.

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "duet/api/engine_status.h"
#include "duet/api/enums.h"
#include "duet/api/route.h"
#include "duet/api/watch_event.h"

namespace duet::router {

using api::Track;
using api::to_string;

// What the router keeps of an EngineDeployment: the canary's share of requests.
struct DeploymentInfo {
  std::string name;
  uint32_t canary_weight = 0;  // percent, from status.canaryWeight
};

struct ApplyResult {
  bool changed = false;              // something the routing table uses changed
  std::vector<std::string> skipped;  // objects that could not be used, with why
};

class SourceState {
 public:
  // Applies one event line: SNAPSHOT replaces everything, ADDED/MODIFIED/DELETED change one
  // object, BOOKMARK only moves the resourceVersion. Objects are read by duet/api/ (the
  // readers duetd's own objects pass); one that fails is skipped, with why. Throws
  // api::FieldError when the line itself is not a watch event.
  ApplyResult apply(const nlohmann::json& event);
  // The same, for a line whose header the caller has read already.
  ApplyResult apply(const nlohmann::json& line, api::WatchEvent event);

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
  const std::map<std::string, api::Route>& routes() const { return routes_; }
  const std::map<std::string, DeploymentInfo>& deployments() const { return deployments_; }
  const std::map<std::string, api::EngineStatus>& engines() const { return engines_; }

 private:
  ApplyResult apply_snapshot(const nlohmann::json& event, api::WatchEvent& header);
  ApplyResult apply_change(const api::WatchEvent& event);

  bool synced_ = false;
  uint64_t resource_version_ = 0;
  std::string state_epoch_;
  std::string node_;
  std::map<std::string, api::Route> routes_;
  std::map<std::string, DeploymentInfo> deployments_;
  std::map<std::string, api::EngineStatus> engines_;
};

}  // namespace duet::router
