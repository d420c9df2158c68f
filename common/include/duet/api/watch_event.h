#pragma once
// The lines of duetd's watch stream (`GET /apis/v1/watch`, NDJSON; docs/node-api.md):
// a SNAPSHOT of everything, then one ADDED, MODIFIED or DELETED line per change, and a
// BOOKMARK now and then (and first, when a watch resumes). duetd writes them, the router
// and `duetctl rollout status --watch` read them.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "duet/api/enums.h"

namespace duet::api {

// The kinds of objects a change line carries.
inline constexpr const char* kRuntimeClassKind = "RuntimeClass";
inline constexpr const char* kDeploymentKind = "EngineDeployment";
inline constexpr const char* kRouteKind = "Route";
inline constexpr const char* kEngineKind = "Engine";

// The lists of a SNAPSHOT, by the key it holds them under.
inline constexpr const char* kSnapshotRuntimeClasses = "runtimeclasses";
inline constexpr const char* kSnapshotDeployments = "deployments";
inline constexpr const char* kSnapshotRoutes = "routes";
inline constexpr const char* kSnapshotEngines = "engines";
inline constexpr const char* kSnapshotDevices = "devices";

// A SNAPSHOT without its lists (the caller adds them): `version` counts in `state_epoch`,
// the random id of this life of duetd's state; `node` names the node.
nlohmann::json snapshot_event(uint64_t version, const std::string& state_epoch, const std::string& node);
nlohmann::json change_event(WatchEventType type, const std::string& kind, uint64_t version,
                            nlohmann::json object);
nlohmann::json bookmark_event(uint64_t version, const std::string& state_epoch);

// `GET /apis/v1/watch`'s query: resume after `resourceVersion` in the state `stateEpoch`.
inline constexpr const char* kWatchPath = "/apis/v1/watch";
inline constexpr const char* kResumeVersionParam = "resourceVersion";
inline constexpr const char* kResumeEpochParam = "stateEpoch";
// The target of a watch that resumes after `version` of `state_epoch` (hex digits only).
std::string resume_target(uint64_t version, const std::string& state_epoch);

// One line, read: the fields every event may have. `object` points into the line (changes
// only); a SNAPSHOT's lists are read from the line by key.
struct WatchEvent {
  WatchEventType type = WatchEventType::bookmark;
  std::optional<uint64_t> resource_version;  // none: the line had none
  std::string kind;                          // changes only
  std::string state_epoch;                   // SNAPSHOT and BOOKMARK
  std::string node;                          // SNAPSHOT
  const nlohmann::json* object = nullptr;    // changes only
};

// Throws FieldError naming the field when the line is not a watch event.
WatchEvent read_watch_event(const nlohmann::json& line);

}  // namespace duet::api
