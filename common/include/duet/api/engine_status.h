#pragma once
// An Engine: one replica of a deployment as duetd runs it (the node API's engines list and
// the watch stream's Engine objects). duetd writes it; the router and duetctl read it.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "duet/api/enums.h"
#include "duet/api/field_reader.h"

namespace duet::api {

struct EngineUsage {  // what the kernel counts for the replica's cgroup
  std::optional<uint64_t> memory_bytes;
  std::optional<double> cpu_seconds;
};

struct EngineStatus {
  std::string name;  // the replica name, also what duet-sim puts in x-duet-replica
  std::string deployment;
  int replica = 0;
  std::string version;  // the deployment's spec.version it runs
  Track track = Track::stable;
  EngineState state = EngineState::pending;
  bool ready = false;
  std::string endpoint;  // HOST:PORT
  uint16_t port = 0;     // the endpoint's
  int pid = 0;
  uint64_t start_time = 0;  // /proc/PID/stat's starttime (clock ticks since boot): identity, not a date
  int restarts = 0;
  std::string last_exit;  // how the last process ended, like kubectl's "Last State"
  std::vector<std::string> devices;
  std::string message;
  std::string cgroup;  // empty: none
  EngineUsage usage;
};

nlohmann::json to_json(const EngineStatus& engine);
// Throws FieldError naming the field.
EngineStatus parse_engine_status(const nlohmann::json& object, Unknown unknown = Unknown::ignore);

}  // namespace duet::api
