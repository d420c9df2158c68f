#pragma once
// Where one Canary deployment's rollout stands (SPEC §6): what the stable replicas run, the
// canary revision, the step, the weight, a pause, the analysis. It goes into the checkpoint
// whole, so a restarted duetd resumes the rollout where it was.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "daemon/manifest/objects.h"
#include "daemon/rollout/analysis.h"
#include "duet/api/deployment_status.h"

namespace duet::daemon {

// How the replicas of a deployment stand in this reconcile pass.
struct ReplicaCensus {
  int stable = 0;           // stable replicas, not terminating
  int stable_ready = 0;     // ... Ready and running the stable revision
  int stable_outdated = 0;  // ... running another revision (being replaced)
  int canary = 0;           // canary replicas, not terminating
  int canary_ready = 0;     // ... Ready and running the canary revision
  int canary_present = 0;   // canary replicas holding devices, terminating ones included
  int terminating = 0;      // replicas of either track draining
  int not_ready = 0;        // replicas of either track, not terminating, not Ready

  // Whether one more replica may go down now (one-at-a-time replacement).
  bool settled() const { return terminating == 0 && not_ready == 0; }
};

struct RolloutState {
  manifest::EngineDeployment stable;  // the spec the stable replicas run
  std::string canary_revision;        // the revision rolling out; empty: none
  std::string canary_version;         // its spec.version
  api::RolloutPhase phase = api::RolloutPhase::progressing;
  bool promoting = false;  // the canary's revision is stable now; old replicas are replaced
  std::size_t step = 0;    // the next step to run
  int weight = 0;          // percent of requests for the canary
  std::optional<std::chrono::system_clock::time_point> pause_started;
  int failures = 0;  // failed analysis intervals of this rollout
  std::optional<AnalysisResult> last_analysis;
  std::string message;
  // Not checkpointed: a restart starts a new analysis interval.
  std::optional<std::chrono::steady_clock::time_point> interval_started;
  ReplicaCensus census;

  bool in_progress() const {
    return !canary_revision.empty() && !stopped();
  }
  bool stopped() const {
    return phase == api::RolloutPhase::degraded || phase == api::RolloutPhase::aborted;
  }

  // status.rollout of the deployment, as the API and the watch stream show it.
  api::RolloutStatus status(const manifest::EngineDeployment& current) const;
  nlohmann::json checkpoint_json() const;
  // Throws std::exception when `j` is not a checkpointed state.
  static RolloutState from_checkpoint(const nlohmann::json& j);
};

}  // namespace duet::daemon
