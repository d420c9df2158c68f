#pragma once
// One analysis interval of a canary (SPEC §6): its success rate and p99 time to first byte
// against the deployment's thresholds, or skipped when too few requests came.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "daemon/manifest/objects.h"
#include "daemon/rollout/traffic.h"
#include "duet/api/deployment_status.h"

namespace duet::daemon {

using AnalysisResult = api::AnalysisReport;

AnalysisResult analyse(const TrafficCounts& canary, const manifest::CanaryAnalysis& rules);

}  // namespace duet::daemon
