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

api::RolloutStatus RolloutState::status(const manifest::EngineDeployment& current) const {
  const auto& strategy = current.strategy;
  api::RolloutStatus out;
  out.phase = phase;
  out.message = message;
  out.weight = weight;
  out.stable_version = stable.version;
  out.stable_replicas = census.stable;
  out.stable_ready = census.stable_ready;
  out.canary_replicas = census.canary;
  out.canary_ready = census.canary_ready;
  if (canary_revision.empty()) return out;
  out.canary_version = canary_version;
  out.current_step = step;
  out.steps = strategy.steps.size();
  out.promoting = promoting;
  if (pause_started && step < strategy.steps.size()) {
    auto seconds = strategy.steps[step].pause_seconds.value_or(-1);
    out.pause = api::RolloutPause{rfc3339(*pause_started), epoch_ms(*pause_started),
                                  seconds < 0 ? std::nullopt : std::optional(seconds)};
  }
  if (strategy.analysis)
    out.analysis = api::RolloutAnalysisStatus{failures, strategy.analysis->failure_limit, last_analysis};
  return out;
}

json RolloutState::checkpoint_json() const {
  json j = {{"stable", manifest::to_json(stable)},
            {"canaryRevision", canary_revision},
            {"canaryVersion", canary_version},
            {"phase", api::to_string(phase)},
            {"promoting", promoting},
            {"step", step},
            {"weight", weight},
            {"failures", failures},
            {"message", message}};
  if (pause_started) j["pauseStartedMs"] = epoch_ms(*pause_started);
  if (last_analysis) j["lastAnalysis"] = api::to_json(*last_analysis);
  return j;
}

RolloutState RolloutState::from_checkpoint(const json& j) {
  RolloutState s;
  s.stable = std::get<manifest::EngineDeployment>(manifest::decode_object(j.at("stable")));
  s.canary_revision = j.at("canaryRevision").get<std::string>();
  s.canary_version = j.value("canaryVersion", "");
  auto phase = api::parse_rollout_phase(j.at("phase").get<std::string>());
  if (!phase) throw std::invalid_argument("phase: unknown rollout phase " + j["phase"].dump());
  s.phase = *phase;
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
  if (j.contains("lastAnalysis")) s.last_analysis = api::parse_analysis_report(j["lastAnalysis"]);
  return s;
}

}  // namespace duet::daemon
