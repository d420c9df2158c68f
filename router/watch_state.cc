#include "router/watch_state.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "duet/common/node_name.h"

namespace duet::router {

using nlohmann::json;

namespace {

const json& member(const json& object, const char* key) {
  static const json null;
  if (!object.is_object()) return null;
  auto it = object.find(key);
  return it == object.end() ? null : *it;
}

std::string string_at(const json& object, const char* key, const std::string& path) {
  const json& v = member(object, key);
  if (v.is_null()) return {};
  if (!v.is_string()) throw std::runtime_error(path + ": expected string");
  return v.get<std::string>();
}

uint64_t uint_at(const json& object, const char* key, uint64_t fallback, const std::string& path) {
  const json& v = member(object, key);
  if (v.is_null()) return fallback;
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    throw std::runtime_error(path + ": expected a non-negative integer");
  return v.get<uint64_t>();
}

std::string manifest_name(const json& object) {
  std::string name = string_at(member(object, "metadata"), "name", "metadata.name");
  if (name.empty()) throw std::runtime_error("metadata.name: required");
  return name;
}

// Engines carry `name` at the top; manifests in `metadata`. DELETED may send either.
std::string object_name(const json& object) {
  std::string name = string_at(object, "name", "name");
  return name.empty() ? manifest_name(object) : name;
}

void parse_size_routing(const json& spec, RouteSpec& route) {
  const json& sr = member(spec, "sizeRouting");
  if (sr.is_null()) return;
  SizeRouting size;
  size.threshold_tokens = uint_at(sr, "thresholdTokens", 0, "spec.sizeRouting.thresholdTokens");
  size.small = string_at(sr, "small", "spec.sizeRouting.small");
  size.large = string_at(sr, "large", "spec.sizeRouting.large");
  if (size.small.empty() || size.large.empty())
    throw std::runtime_error("spec.sizeRouting: small and large are required");
  route.size_routing = std::move(size);
}

template <class Map, class Value>
void put(Map& map, Value value) {
  std::string name = value.name;
  map.insert_or_assign(std::move(name), std::move(value));
}

}  // namespace

const char* to_string(Track track) { return track == Track::canary ? "canary" : "stable"; }

RouteSpec parse_route(const json& object) {
  RouteSpec route;
  route.name = manifest_name(object);
  const json& spec = member(object, "spec");
  const json& match = member(spec, "match");
  if (auto prefix = string_at(match, "pathPrefix", "spec.match.pathPrefix"); !prefix.empty())
    route.path_prefix = prefix;
  route.model = string_at(match, "model", "spec.match.model");
  parse_size_routing(spec, route);
  route.backend = string_at(spec, "backend", "spec.backend");
  if (route.size_routing.has_value() == !route.backend.empty())
    throw std::runtime_error("spec: exactly one of sizeRouting and backend is required");
  const json& canary = member(spec, "canaryHeader");
  route.canary_header_name = string_at(canary, "name", "spec.canaryHeader.name");
  route.canary_header_value = string_at(canary, "value", "spec.canaryHeader.value");
  route.stickiness_claim = string_at(member(spec, "stickiness"), "claim", "spec.stickiness.claim");
  route.attempts = static_cast<unsigned>(std::max<uint64_t>(
      1, uint_at(member(spec, "retries"), "attempts", 2, "spec.retries.attempts")));
  const json& timeouts = member(spec, "timeouts");
  // 0 would time every request out at once; the shortest wait is one second.
  route.first_byte_timeout = std::chrono::seconds(std::max<uint64_t>(
      1, uint_at(timeouts, "firstByteSeconds", 60, "spec.timeouts.firstByteSeconds")));
  route.idle_timeout = std::chrono::seconds(
      std::max<uint64_t>(1, uint_at(timeouts, "idleSeconds", 120, "spec.timeouts.idleSeconds")));
  return route;
}

DeploymentInfo parse_deployment(const json& object) {
  DeploymentInfo d;
  d.name = manifest_name(object);
  d.canary_weight = static_cast<uint32_t>(std::min<uint64_t>(
      100, uint_at(member(object, "status"), "canaryWeight", 0, "status.canaryWeight")));
  return d;
}

EngineInfo parse_engine(const json& object) {
  EngineInfo e;
  e.name = string_at(object, "name", "name");
  if (e.name.empty()) throw std::runtime_error("name: required");
  e.deployment = string_at(object, "deployment", "deployment");
  std::string track = string_at(object, "track", "track");
  if (track != "" && track != "stable" && track != "canary")
    throw std::runtime_error("track: expected stable or canary, got \"" + track + "\"");
  e.track = track == "canary" ? Track::canary : Track::stable;
  const json& ready = member(object, "ready");
  e.ready = ready.is_boolean() && ready.get<bool>();
  e.endpoint = string_at(object, "endpoint", "endpoint");
  e.state = string_at(object, "state", "state");
  e.version = string_at(object, "version", "version");
  return e;
}

ApplyResult SourceState::apply(const json& event) {
  std::string type = string_at(event, "type", "type");
  uint64_t version = uint_at(event, "resourceVersion", resource_version_, "resourceVersion");
  ApplyResult result;
  if (type == "SNAPSHOT") {
    result = apply_snapshot(event);
  } else if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") {
    result = apply_change(type, event);
  } else if (type != "BOOKMARK") {
    throw std::runtime_error("type: unknown watch event \"" + type + "\"");
  }
  resource_version_ = version;
  return result;
}

ApplyResult SourceState::apply_snapshot(const json& event) {
  ApplyResult result;
  std::string epoch = string_at(event, "stateEpoch", "stateEpoch");
  std::string node = string_at(event, "node", "node");
  if (!node.empty() && !valid_node_name(node)) {
    result.skipped.push_back("node: not a host name, left out");
    node.clear();
  }
  // Build aside, then swap: a snapshot replaces everything the previous one said.
  SourceState next;
  auto each = [&](const char* key, auto& map, auto parse) {
    const json& list = member(event, key);
    if (!list.is_array()) return;
    for (const auto& object : list) {
      try {
        put(map, parse(object));
      } catch (const std::exception& e) {
        result.skipped.push_back(std::string(key) + ": " + e.what());
      }
    }
  };
  each("routes", next.routes_, parse_route);
  each("deployments", next.deployments_, parse_deployment);
  each("engines", next.engines_, parse_engine);
  routes_ = std::move(next.routes_);
  deployments_ = std::move(next.deployments_);
  engines_ = std::move(next.engines_);
  state_epoch_ = std::move(epoch);
  node_ = std::move(node);
  synced_ = true;
  result.changed = true;
  return result;
}

ApplyResult SourceState::apply_change(const std::string& type, const json& event) {
  ApplyResult result;
  std::string kind = string_at(event, "kind", "kind");
  const json& object = member(event, "object");
  auto change = [&](auto& map, auto parse) {
    if (type == "DELETED")
      map.erase(object_name(object));
    else
      put(map, parse(object));
    result.changed = true;
  };
  try {
    if (kind == "Route") change(routes_, parse_route);
    if (kind == "EngineDeployment") change(deployments_, parse_deployment);
    if (kind == "Engine") change(engines_, parse_engine);
    // RuntimeClass and kinds added later do not affect routing.
  } catch (const std::exception& e) {
    result.skipped.push_back(kind + ": " + e.what());
  }
  return result;
}

}  // namespace duet::router
