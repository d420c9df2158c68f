#pragma once
// The three manifest kinds duetd stores (SPEC §2), validated and with defaults filled in.
// Each converts back to JSON in its Kubernetes shape for the API and the checkpoint.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/instance/http_prober.h"
#include "engine/instance/resource_limits.h"

namespace duet::manifest {

struct Metadata {
  std::string name;
  std::map<std::string, std::string> labels;
};

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
  std::string type = "Canary";  // Canary | Recreate
  int canary_replicas = 1;
  std::string capacity = "surge";  // surge | replace
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

struct Route {
  Metadata metadata;
  std::string path_prefix = "/v1/";
  std::optional<std::string> model;
  std::optional<std::string> backend;
  int64_t threshold_tokens = 0;
  std::string small, large;  // sizeRouting deployments
  std::string canary_header_name = "x-canary";
  std::string canary_header_value = "true";
  std::string stickiness_claim = "sub";
  int retry_attempts = 2;
  int first_byte_timeout_seconds = 60;
  int idle_timeout_seconds = 120;

  // Deployments this route sends to.
  std::vector<std::string> deployments() const;
};

nlohmann::json to_json(const RuntimeClass& rc);
nlohmann::json to_json(const EngineDeployment& d);
nlohmann::json to_json(const Route& r);

}  // namespace duet::manifest
