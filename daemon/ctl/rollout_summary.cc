#include "daemon/ctl/rollout_summary.h"

#include <algorithm>
#include <cstdio>

namespace duet::ctl {

using nlohmann::json;

namespace {

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", share * 100);
  return text;
}

std::string analysis_text(const json& analysis) {
  std::string failed = std::to_string(analysis.value("failures", 0)) + "/" +
                       std::to_string(analysis.value("failureLimit", 0)) + " failed";
  if (!analysis.contains("last")) return "analysis: no interval yet (" + failed + ")";
  const auto& last = analysis["last"];
  std::string text = "last analysis: " + last.value("result", "") + ", " +
                     std::to_string(last.value("requests", 0)) + " requests, " +
                     percent(last.value("successRate", 1.0)) + " ok";
  if (last.contains("p99LatencyMs") && last["p99LatencyMs"].is_number())
    text += ", p99 " + std::to_string(static_cast<long>(last["p99LatencyMs"].get<double>())) + " ms";
  return text + " (" + failed + ")";
}

}  // namespace

std::string rollout_summary(const json& r) {
  std::string line = r.value("phase", "Unknown");
  if (r.contains("currentStepIndex")) {
    auto steps = r.value("steps", 0);
    line += "  step " + std::to_string(std::min(r.value("currentStepIndex", 0) + 1, steps)) + "/" +
            std::to_string(steps);
  }
  line += "  weight " + std::to_string(r.value("weight", 0)) + "%";
  line += "  stable " + r.value("stableVersion", "") + " " + std::to_string(r.value("stableReady", 0)) +
          "/" + std::to_string(r.value("stableReplicas", 0));
  if (r.contains("canaryVersion"))
    line += "  canary " + r.value("canaryVersion", "") + " " + std::to_string(r.value("canaryReady", 0)) +
            "/" + std::to_string(r.value("canaryReplicas", 0));
  if (r.contains("analysis")) line += "  " + analysis_text(r["analysis"]);
  auto message = r.value("message", "");
  if (!message.empty()) line += "  " + message;
  return line;
}

}  // namespace duet::ctl
