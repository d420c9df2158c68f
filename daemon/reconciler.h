#pragma once
// The reconcile loop of duetd (level-triggered, like a Kubernetes controller): turns the
// stored EngineDeployments into supervised replicas, and reports them to the watch stream.
// Which revision and how many replicas come from a ReplicaPlanner (the RolloutController),
// devices from a DevicePool (the DeviceManager): Node owns all three as peers.

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "duet/api/engine_status.h"
#include "duet/api/enums.h"
#include "daemon/device_pool.h"
#include "daemon/drain_tracker.h"
#include "daemon/engine_events.h"
#include "daemon/event_log.h"
#include "daemon/port_allocator.h"
#include "daemon/rollout/replica_planner.h"
#include "daemon/store.h"
#include "daemon/watch_hub.h"
#include "engine/instance/engine_instance.h"
#include "engine/instance/replica_cgroup.h"

namespace duet::daemon {

struct ReconcilerOptions {
  std::string log_dir;                 // one log file per replica
  std::string engine_host = "127.0.0.1";  // where engines listen and are probed
  std::optional<engine::RunAs> run_as = std::nullopt;  // engineUser; none: duetd's own user
  std::optional<engine::CgroupRoot> cgroups = std::nullopt;  // none: process groups only
};

class Reconciler {
 public:
  Reconciler(boost::asio::io_context& io, Store& store, WatchHub& hub, PortAllocator& ports,
             DevicePool& devices, ReplicaPlanner& planner, EventLog& events,
             const DrainTracker& drains, ReconcilerOptions options);

  // The running replicas for the checkpoint: each with the config it was started with, its
  // pid and /proc start time, its devices and port.
  nlohmann::json checkpoint_json() const;
  // At start, before the first pass: takes over the replicas of `checkpoint` whose process
  // still runs (same pid and start time), without restarting them; returns how many.
  int adopt(const nlohmann::json& checkpoint);
  // Kills and removes the replica cgroups that no replica owns (left by replicas whose main
  // process ended while duetd was down); after adopt() of a checkpoint. How many.
  int collect_orphan_cgroups();
  // At stop: the cgroup root goes if no replica's cgroup is left in it (engines outlive duetd).
  void remove_empty_cgroup_root();

  // Asks for a reconcile pass; several requests before it runs make one pass.
  void trigger();
  // A child process ended (from the SIGCHLD handler).
  void on_child_exit(pid_t pid, int status);
  // Devices these engines hold turned unhealthy (why: the device and its reason): each is
  // Draining at once (routers send it nothing new), then stopped, then placed again on
  // healthy free devices. A DeviceUnhealthy event says why.
  void evict(const Evictions& engines);

  // Host maintenance, as kubectl cordon/drain/uncordon: a cordoned node places no replica
  // (they wait Pending, saying so); those running stay. drain() cordons and drains every
  // running replica (each as a planned stop: Draining until no router has a request on it).
  void cordon(bool on);
  void drain_all();
  bool cordoned() const { return cordoned_; }

  std::vector<api::EngineStatus> engines() const;
  std::optional<api::EngineStatus> engine(const std::string& name) const;
  // Where replica `name` writes its output (it may be gone; the file stays).
  std::string log_path(const std::string& name) const;
  // The log files of the replicas there are now, for rotation.
  std::vector<std::string> log_paths() const;
  // What the node decides, not the deployment, so not in the checkpoint: the engine user
  // and the replica's cgroup.
  void set_node_launch(engine::LaunchSpec& launch, const std::string& name) const;
  // A deployment's replicas that are not terminating, and how many of them are Ready: its
  // status' replicas and readyReplicas.
  struct ReplicaCount {
    int replicas = 0;
    int ready = 0;
  };
  ReplicaCount count_replicas(const std::string& deployment) const;
  // Restarts per deployment since duetd started, replicas that are gone included.
  std::map<std::string, int> restart_totals() const;

 private:
  struct Replica {
    std::shared_ptr<engine::EngineInstance> instance;
    std::string revision;  // what the replica was built from; a change replaces it
    bool placed = false;   // has its port and devices; an unplaced replica waits, Pending
    bool terminating = false;
    // Draining: published not Ready at resourceVersion `since`, stopped once no router has
    // a request on it or at `deadline` (terminationGracePeriodSeconds).
    struct Drain {
      uint64_t since = 0;
      DrainTracker::Clock::time_point started, deadline;
    };
    std::optional<Drain> drain;
    std::string handler;   // the device plugin its devices came from
    EngineObservation observed;  // as last reported, to turn changes into events
  };
  // A port and devices for a replica, or why there are none now.
  struct Placement {
    uint16_t port = 0;
    std::optional<deviceplugin::Allocation> allocation;
    std::string reason;
  };

  // How outdated replicas of a track are replaced.
  enum class Replacement { all_at_once, one_now, wait };

  void reconcile();
  void reconcile_deployment(const manifest::EngineDeployment& deployment);
  ReplicaCensus take_census(const std::string& deployment, const RolloutTarget& target) const;
  // Keeps replicas 0..count-1 of `track` running `revision` (built from `spec`) and stops
  // the rest.
  void reconcile_track(const manifest::EngineDeployment& spec, api::Track track,
                       const std::string& revision, int count, Replacement replacement);
  // Sends a MODIFIED deployment to watchers when its status (as the Store shows it, rollout
  // included) changed in this pass.
  void publish_status_changes();
  // Places and starts replica `index`, or keeps it Pending with the reason it cannot be placed.
  void place_replica(const manifest::EngineDeployment& deployment, api::Track track,
                     int index, const std::string& revision);
  Placement find_placement(const manifest::EngineDeployment& deployment, const std::string& name);
  // A planned stop: a replica that has served drains first (Draining), then terminates.
  void stop_replica(const std::string& name);
  // Terminates the drained replicas and those whose drain ran out of time; rechecks while any
  // drains.
  void check_drains();
  // The status of a replica, a drain's progress in its message.
  api::EngineStatus status_of(const Replica& replica) const;
  engine::EngineConfig engine_config(const manifest::EngineDeployment& deployment,
                                     api::Track track, int index,
                                     const Placement& placement) const;
  void publish(api::WatchEventType type, const engine::EngineInstance& instance);
  void on_instance_change(const engine::EngineInstance& instance);
  std::shared_ptr<engine::EngineInstance> make_instance(engine::EngineConfig config);

  boost::asio::io_context& io_;
  Store& store_;
  WatchHub& hub_;
  PortAllocator& ports_;
  DevicePool& devices_;
  ReplicaPlanner& planner_;
  EventLog& events_;
  const DrainTracker& drains_;
  ReconcilerOptions options_;
  boost::asio::steady_timer drain_timer_;
  bool drain_check_armed_ = false;
  std::map<std::string, Replica> replicas_;
  std::map<std::string, int> retired_restarts_;  // restarts of replicas that are gone
  std::map<std::string, nlohmann::json> published_status_;
  bool cordoned_ = false;  // by deployment
  bool pass_queued_ = false;
};

}  // namespace duet::daemon
