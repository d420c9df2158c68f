#pragma once
// The three manifest kinds duetd stores (SPEC §2), validated and with defaults filled in.
// Each converts back to JSON in its Kubernetes shape for the API and the checkpoint. Route
// is part of the contract with the router and lives in duet/api/.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "duet/api/enums.h"
#include "duet/api/metadata.h"
#include "duet/api/route.h"
#include "engine/instance/http_prober.h"
#include "engine/instance/resource_limits.h"

namespace duet::manifest {

using api::Metadata;

struct RuntimeClass {
  Metadata metadata;
  std::string handler;  // ascend | nvidia | mlu | cpu
};

using HttpProbe = engine::ProbeSpec;

struct EngineTemplate {
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::optional<HttpProbe> readiness;
  std::optional<HttpProbe> liveness;
  int termination_grace_seconds = 30;
};

struct CanaryStep {
  std::optional<int> set_weight;
  std::optional<int64_t> pause_seconds;  // set with pause; -1 = until promoted
};

struct CanaryAnalysis {
  int64_t interval_seconds = 10;
  int failure_limit = 2;
  double min_success_rate = 0.99;
  int64_t max_p99_latency_ms = 0;  // 0 = not checked
  int64_t min_requests = 20;
};

struct Strategy {
  api::StrategyType type = api::StrategyType::canary;
  int canary_replicas = 1;
  api::Capacity capacity = api::Capacity::surge;
  std::vector<CanaryStep> steps;
  std::optional<CanaryAnalysis> analysis;
};

struct EngineDeployment {
  Metadata metadata;
  std::string runtime_class;
  int replicas = 1;
  std::string version;
  int devices = 0;
  engine::ResourceLimits limits;  // resources.limits: memory (bytes), pids
  EngineTemplate engine;
  Strategy strategy;
};

using api::Route;  // duet/api/route.h: the router reads it too

nlohmann::json to_json(const RuntimeClass& rc);
nlohmann::json to_json(const EngineDeployment& d);
using api::to_json;

}  // namespace duet::manifest
