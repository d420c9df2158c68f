#include "daemon/rollout/rollout_state.h"

#include <algorithm>

#include "daemon/event_log.h"
#include "daemon/manifest/parser.h"

namespace duet::daemon {

using nlohmann::json;

namespace {
int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
}  // namespace

json RolloutState::status_json(const manifest::EngineDeployment& current) const {
  const auto& strategy = current.strategy;
  json j = {{"phase", phase},
            {"message", message},
            {"weight", weight},
            {"stableVersion", stable.version},
            {"stableReplicas", census.stable},
            {"stableReady", census.stable_ready},
            {"canaryReplicas", census.canary},
            {"canaryReady", census.canary_ready}};
  if (canary_revision.empty()) return j;
  j["canaryVersion"] = canary_version;
  j["currentStepIndex"] = step;  // as Argo Rollouts names it; == steps once all ran
  j["steps"] = strategy.steps.size();
  j["promoting"] = promoting;
  if (pause_started && step < strategy.steps.size()) {
    auto seconds = strategy.steps[step].pause_seconds.value_or(-1);
    j["pause"] = {{"startedAt", rfc3339(*pause_started)},
                  {"startedAtMs", epoch_ms(*pause_started)},
                  {"durationSeconds", seconds < 0 ? json() : json(seconds)}};
  }
  if (strategy.analysis) {
    j["analysis"] = {{"failures", failures}, {"failureLimit", strategy.analysis->failure_limit}};
    if (last_analysis) j["analysis"]["last"] = last_analysis->to_json();
  }
  return j;
}

json RolloutState::checkpoint_json() const {
  json j = {{"stable", manifest::to_json(stable)},
            {"canaryRevision", canary_revision},
            {"canaryVersion", canary_version},
            {"phase", phase},
            {"promoting", promoting},
            {"step", step},
            {"weight", weight},
            {"failures", failures},
            {"message", message}};
  if (pause_started) j["pauseStartedMs"] = epoch_ms(*pause_started);
  if (last_analysis) j["lastAnalysis"] = last_analysis->to_json();
  return j;
}

RolloutState RolloutState::from_checkpoint(const json& j) {
  RolloutState s;
  s.stable = std::get<manifest::EngineDeployment>(manifest::decode_object(j.at("stable")));
  s.canary_revision = j.at("canaryRevision").get<std::string>();
  s.canary_version = j.value("canaryVersion", "");
  s.phase = j.at("phase").get<std::string>();
  s.promoting = j.value("promoting", false);
  s.step = j.value("step", std::size_t{0});
  s.weight = j.value("weight", 0);
  s.failures = j.value("failures", 0);
  s.message = j.value("message", "");
  if (j.contains("pauseStartedMs")) {
    // Clamped to [1970, what the clock's nanoseconds hold], so that neither the conversion
    // nor `now - pause_started` can wrap around on a bad value.
    constexpr auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::duration::max())
                               .count();
    s.pause_started = std::chrono::system_clock::time_point(std::chrono::milliseconds(
        std::clamp<int64_t>(j["pauseStartedMs"].get<int64_t>(), 0, limit)));
  }
  if (j.contains("lastAnalysis")) s.last_analysis = AnalysisResult::from_json(j["lastAnalysis"]);
  return s;
}

}  // namespace duet::daemon
