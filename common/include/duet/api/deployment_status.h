#pragma once
// An EngineDeployment's status (SPEC §6): its replicas, the canary's weight and where its
// rollout stands. duetd writes it under `status` of every deployment it shows; the router
// reads the weight, duetctl the rest.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "duet/api/enums.h"
#include "duet/api/field_reader.h"

namespace duet::api {

// One analysis interval of a canary against its thresholds.
struct AnalysisReport {
  Verdict verdict = Verdict::skipped;
  uint64_t requests = 0;
  uint64_t errors = 0;
  double success_rate = 1;
  std::optional<double> p99_ms;
  // Which metric failed, its value and the threshold ("successRate 0.700 < minSuccessRate
  // 0.990"), or why the interval was skipped.
  std::string reason;
};

struct RolloutPause {
  std::string started_at;  // RFC 3339
  int64_t started_at_ms = 0;
  std::optional<int64_t> duration_seconds;  // none: until promoted
};

struct RolloutAnalysisStatus {
  int failures = 0;
  int failure_limit = 0;
  std::optional<AnalysisReport> last;
};

// A rollout's status; the fields after canary_replicas only while a canary revision exists.
struct RolloutStatus {
  RolloutPhase phase = RolloutPhase::progressing;
  std::string message;
  int weight = 0;  // percent of requests for the canary
  std::string stable_version;
  int stable_replicas = 0, stable_ready = 0, canary_replicas = 0, canary_ready = 0;
  std::string canary_version;  // empty: no canary revision
  std::size_t current_step = 0;  // as Argo Rollouts names it; == steps once all ran
  std::size_t steps = 0;
  bool promoting = false;
  std::optional<RolloutPause> pause;
  std::optional<RolloutAnalysisStatus> analysis;
};

struct DeploymentStatus {
  int replicas = 0;  // not terminating
  int ready_replicas = 0;
  int canary_weight = 0;
  int64_t observed_generation = 0;
  std::optional<RolloutStatus> rollout;
};

// What other parts read of an EngineDeployment object: its name and status (the spec is
// duetd's to read).
struct DeploymentView {
  std::string name;
  DeploymentStatus status;
};

nlohmann::json to_json(const AnalysisReport& report);
nlohmann::json to_json(const RolloutStatus& rollout);
nlohmann::json to_json(const DeploymentStatus& status);
// Each throws FieldError naming the field.
AnalysisReport parse_analysis_report(const nlohmann::json& object, Unknown unknown = Unknown::ignore);
DeploymentStatus parse_deployment_status(const nlohmann::json& object, Unknown unknown = Unknown::ignore);
DeploymentView parse_deployment_view(const nlohmann::json& object);

}  // namespace duet::api
