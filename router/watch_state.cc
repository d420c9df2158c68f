#include "router/watch_state.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "duet/api/deployment_status.h"
#include "duet/common/node_name.h"

namespace duet::router {

using nlohmann::json;

namespace {

DeploymentInfo read_deployment(const json& object) {
  auto view = api::parse_deployment_view(object);
  return {std::move(view.name), static_cast<uint32_t>(view.status.canary_weight)};
}

api::Route read_route(const json& object) { return api::parse_route(object); }
api::EngineStatus read_engine(const json& object) { return api::parse_engine_status(object); }

const std::string& name_of(const api::Route& route) { return route.name(); }
const std::string& name_of(const DeploymentInfo& deployment) { return deployment.name; }
const std::string& name_of(const api::EngineStatus& engine) { return engine.name; }

// Engines carry `name` at the top; manifests in `metadata`. DELETED may send either.
std::string deleted_name(const json& object) {
  api::FieldReader r(object, "", api::Unknown::ignore);
  if (auto name = r.optional_string("name")) return *name;
  return r.child("metadata").string("name");
}

template <class Map, class Value>
void put(Map& map, Value value) {
  std::string name = name_of(value);
  map.insert_or_assign(std::move(name), std::move(value));
}

}  // namespace

ApplyResult SourceState::apply(const json& line) { return apply(line, api::read_watch_event(line)); }

ApplyResult SourceState::apply(const json& line, api::WatchEvent event) {
  ApplyResult result;
  switch (event.type) {
    case api::WatchEventType::snapshot: result = apply_snapshot(line, event); break;
    case api::WatchEventType::bookmark: break;
    default: result = apply_change(event);
  }
  resource_version_ = event.resource_version.value_or(resource_version_);
  return result;
}

ApplyResult SourceState::apply_snapshot(const json& event, api::WatchEvent& header) {
  ApplyResult result;
  std::string node = std::move(header.node);
  if (!node.empty() && !valid_node_name(node)) {
    result.skipped.push_back("node: not a host name, left out");
    node.clear();
  }
  // Build aside, then swap: a snapshot replaces everything the previous one said.
  SourceState next;
  auto each = [&](const char* key, auto& map, auto read) {
    auto list = event.find(key);
    if (list == event.end() || !list->is_array()) return;
    for (const auto& object : *list) {
      try {
        put(map, read(object));
      } catch (const std::exception& e) {
        result.skipped.push_back(std::string(key) + ": " + e.what());
      }
    }
  };
  each(api::kSnapshotRoutes, next.routes_, read_route);
  each(api::kSnapshotDeployments, next.deployments_, read_deployment);
  each(api::kSnapshotEngines, next.engines_, read_engine);
  routes_ = std::move(next.routes_);
  deployments_ = std::move(next.deployments_);
  engines_ = std::move(next.engines_);
  state_epoch_ = std::move(header.state_epoch);
  node_ = std::move(node);
  synced_ = true;
  result.changed = true;
  return result;
}

ApplyResult SourceState::apply_change(const api::WatchEvent& event) {
  ApplyResult result;
  const json& object = *event.object;
  auto change = [&](auto& map, auto read) {
    if (event.type == api::WatchEventType::deleted)
      map.erase(deleted_name(object));
    else
      put(map, read(object));
    result.changed = true;
  };
  try {
    if (event.kind == api::kRouteKind) change(routes_, read_route);
    if (event.kind == api::kDeploymentKind) change(deployments_, read_deployment);
    if (event.kind == api::kEngineKind) change(engines_, read_engine);
    // RuntimeClass, Device and kinds added later do not affect routing.
  } catch (const std::exception& e) {
    result.skipped.push_back(event.kind + ": " + e.what());
  }
  return result;
}

}  // namespace duet::router
