#pragma once
// One analysis interval of a canary (SPEC §6): its success rate and p99 time to first byte
// against the deployment's thresholds, or skipped when too few requests came.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "daemon/manifest/objects.h"
#include "daemon/rollout/traffic.h"

namespace duet::daemon {

struct AnalysisResult {
  enum class Verdict { passed, failed, skipped };
  Verdict verdict = Verdict::skipped;
  uint64_t requests = 0;
  uint64_t errors = 0;
  double success_rate = 1;
  std::optional<double> p99_ms;
  // Which metric failed, its value and the threshold ("successRate 0.700 < minSuccessRate
  // 0.990"), or why the interval was skipped.
  std::string reason;

  nlohmann::json to_json() const;
  static AnalysisResult from_json(const nlohmann::json& j);
};

AnalysisResult analyse(const TrafficCounts& canary, const manifest::CanaryAnalysis& rules);

}  // namespace duet::daemon
