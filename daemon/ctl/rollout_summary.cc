#include "daemon/ctl/rollout_summary.h"

#include <algorithm>
#include <cstdio>

namespace duet::ctl {

namespace {

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", share * 100);
  return text;
}

std::string analysis_text(const api::RolloutAnalysisStatus& analysis) {
  std::string failed = std::to_string(analysis.failures) + "/" + std::to_string(analysis.failure_limit) + " failed";
  if (!analysis.last) return "analysis: no interval yet (" + failed + ")";
  const auto& last = *analysis.last;
  std::string text = "last analysis: " + std::string(api::to_string(last.verdict)) + ", " +
                     std::to_string(last.requests) + " requests, " + percent(last.success_rate) + " ok";
  if (last.p99_ms) text += ", p99 " + std::to_string(static_cast<long>(*last.p99_ms)) + " ms";
  return text + " (" + failed + ")";
}

}  // namespace

std::string rollout_summary(const api::RolloutStatus& r) {
  std::string line(api::to_string(r.phase));
  if (!r.canary_version.empty())
    line += "  step " + std::to_string(std::min(r.current_step + 1, r.steps)) + "/" + std::to_string(r.steps);
  line += "  weight " + std::to_string(r.weight) + "%";
  line += "  stable " + r.stable_version + " " + std::to_string(r.stable_ready) + "/" +
          std::to_string(r.stable_replicas);
  if (!r.canary_version.empty())
    line += "  canary " + r.canary_version + " " + std::to_string(r.canary_ready) + "/" +
            std::to_string(r.canary_replicas);
  if (r.analysis) line += "  " + analysis_text(*r.analysis);
  if (!r.message.empty()) line += "  " + r.message;
  return line;
}

}  // namespace duet::ctl
