#pragma once
// Canary rollouts (SPEC §6), driven by the reconcile loop. For each Canary deployment it
// decides what the stable and canary replicas run and how many of each there are; it steps
// through setWeight and pause, judges the canary on the routers' counts every analysis
// interval, aborts, retries and promotes. The Reconciler, its peer under Node, starts and
// stops the replicas; it sees this class only as a ReplicaPlanner.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "daemon/event_log.h"
#include "daemon/manifest/objects.h"
#include "daemon/rollout/replica_planner.h"
#include "daemon/rollout/rollout_state.h"
#include "daemon/rollout/traffic.h"

namespace duet::daemon {

// Where the controller reads the time: pauses on the wall clock (they are shown as dates and
// checkpointed), analysis intervals on the steady one. Tests give it a hand-moved one.
struct RolloutClock {
  std::function<std::chrono::system_clock::time_point()> wall = [] { return std::chrono::system_clock::now(); };
  std::function<std::chrono::steady_clock::time_point()> steady = [] { return std::chrono::steady_clock::now(); };
};

class RolloutController : public ReplicaPlanner {
 public:
  // `revision_of`: everything a replica is built from, to tell revisions apart.
  // `on_due`: asks for a reconcile pass (a pause ended, an analysis interval is over).
  RolloutController(boost::asio::io_context& io, EventLog& events,
                    std::function<std::string(const manifest::EngineDeployment&)> revision_of,
                    std::function<void()> on_due, RolloutClock clock = {});

  // ReplicaPlanner
  RolloutTarget target(const manifest::EngineDeployment& current) override;
  ReplicaPlan plan(const manifest::EngineDeployment& current, const ReplicaCensus& census) override;
  void retain(const std::set<std::string>& deployments) override;  // drops their rollouts

  // `duetctl rollout promote|abort|retry`. Throw HttpError 409 when the rollout is not in a
  // state that allows it.
  void promote(const manifest::EngineDeployment& current);
  void abort(const manifest::EngineDeployment& current);
  void retry(const manifest::EngineDeployment& current);

  void add_traffic(const std::vector<TrafficSample>& samples);

  // status.rollout of a deployment; none before its first reconcile pass.
  std::optional<api::RolloutStatus> status(const manifest::EngineDeployment& current) const;
  int weight(const std::string& deployment) const;
  // Deployment → phase, for the metrics.
  std::map<std::string, api::RolloutPhase> phases() const;

  nlohmann::json checkpoint_json() const;
  // At start, before the first pass. Returns problems (unreadable states are left out).
  std::vector<std::string> restore(const nlohmann::json& checkpoint);

 private:
  RolloutState& state_of(const manifest::EngineDeployment& current);
  const RolloutState& existing(const manifest::EngineDeployment& current, const char* action) const;
  void start(RolloutState& s, const manifest::EngineDeployment& current, const std::string& revision);
  void clear(RolloutState& s);
  // Runs the steps and the analysis while the canary replicas are Ready.
  void advance(RolloutState& s, const manifest::EngineDeployment& current);
  // Returns false when the analysis aborted the rollout.
  bool analyse_interval(RolloutState& s, const manifest::EngineDeployment& current);
  void begin_promotion(RolloutState& s, const manifest::EngineDeployment& current,
                       const std::string& why);
  void stop(RolloutState& s, const manifest::EngineDeployment& current, api::RolloutPhase phase,
            const std::string& reason);
  ReplicaPlan plan_promotion(RolloutState& s, const manifest::EngineDeployment& current);
  void schedule_tick();

  EventLog& events_;
  std::function<std::string(const manifest::EngineDeployment&)> revision_of_;
  std::function<void()> on_due_;
  RolloutClock clock_;
  boost::asio::steady_timer tick_;
  std::map<std::string, RolloutState> states_;
  TrafficLedger traffic_;
};

}  // namespace duet::daemon
