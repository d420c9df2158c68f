#pragma once
// What the reconcile loop asks of the rollout controller each pass, as a small interface: the
// Reconciler starts and stops replicas, the planner decides which revision and how many. Node
// wires the real RolloutController in; reconcile tests give a fixed plan.

#include <set>
#include <string>

#include "daemon/manifest/objects.h"
#include "daemon/rollout/rollout_state.h"

namespace duet::daemon {

// What the replicas of one deployment run in this pass. The pointers stay valid until the
// next call into the planner.
struct RolloutTarget {
  const manifest::EngineDeployment* stable = nullptr;
  std::string stable_revision;
  const manifest::EngineDeployment* canary = nullptr;  // null: no canary replicas
  std::string canary_revision;
};

// How many replicas of each track to keep.
struct ReplicaPlan {
  int stable = 0;
  int canary = 0;
  // Replace outdated stable replicas one at a time, each once all others are Ready.
  bool one_at_a_time = false;
};

class ReplicaPlanner {
 public:
  virtual ~ReplicaPlanner() = default;
  // In each reconcile pass, for each deployment: first what to run (a changed spec starts,
  // replaces or cancels a rollout)...
  virtual RolloutTarget target(const manifest::EngineDeployment& current) = 0;
  // ...then how many, after moving the rollout on by what the replicas show.
  virtual ReplicaPlan plan(const manifest::EngineDeployment& current, const ReplicaCensus& census) = 0;
  // At the end of a pass: forgets the deployments that are gone.
  virtual void retain(const std::set<std::string>& deployments) = 0;
};

}  // namespace duet::daemon
