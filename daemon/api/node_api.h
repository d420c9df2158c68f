#pragma once
// duetd's node API (SPEC §7, docs/node-api.md): apply, read, delete and watch, as JSON over
// HTTP/1.1. Handlers run on the daemon's single loop, so they see one consistent state.

#include <memory>

#include "daemon/api/audit_log.h"
#include "daemon/daemon_metrics.h"
#include "daemon/device_manager.h"
#include "daemon/drain_tracker.h"
#include "daemon/event_log.h"
#include "daemon/reconciler.h"
#include "daemon/rollout/rollout_controller.h"
#include "daemon/rollout/traffic_history.h"
#include "daemon/store.h"
#include "daemon/watch_hub.h"
#include "duet/common/http_server.h"

namespace duet::daemon {

class NodeApi {
 public:
  NodeApi(Store& store, Reconciler& reconciler, RolloutController& rollouts, WatchHub& hub,
          const DeviceManager& devices, EventLog& events, const DaemonMetrics& metrics,
          DrainTracker& drains, TrafficHistory& traffic_history)
      : store_(store),
        reconciler_(reconciler),
        rollouts_(rollouts),
        drains_(drains),
        traffic_history_(traffic_history),
        hub_(hub),
        devices_(devices),
        events_(events),
        metrics_(metrics) {}

  // The http::Server handler.
  void handle(const std::shared_ptr<http::Exchange>& exchange);
  // Writes the checkpoint now: after a change that is not an object (cordon).
  void set_persist(std::function<void()> persist) { persist_ = std::move(persist); }

 private:
  // The mutations answer and return what they changed, for the audit log.
  nlohmann::json apply(const std::shared_ptr<http::Exchange>& exchange, const std::string& query);
  void read(const std::shared_ptr<http::Exchange>& exchange, const std::string& resource,
            const std::string& name, const std::string& query);
  // NAME/events of a deployment, NAME/logs of an engine.
  void read_subresource(const std::shared_ptr<http::Exchange>& exchange,
                        const std::string& resource, const std::string& name,
                        const std::string& query);
  void read_devices(const std::shared_ptr<http::Exchange>& exchange, const std::string& id);
  nlohmann::json remove(const std::shared_ptr<http::Exchange>& exchange,
                        const std::string& resource, const std::string& name);
  // POST deployments/NAME/rollout/{promote,abort,retry}.
  nlohmann::json rollout_action(const std::shared_ptr<http::Exchange>& exchange,
                                const std::string& path);
  // Runs `mutation` and records it, or its refusal (then rethrown), in audit_. `named`: the
  // objects the request names, for a refusal.
  template <class Mutation>
  void audited(const std::shared_ptr<http::Exchange>& exchange, const std::string& action,
               nlohmann::json named, Mutation&& mutation);
  // The object as stored now, for the audit log: kind, name, resourceVersion, generation.
  nlohmann::json stored_ref(const std::string& kind, const std::string& name) const;
  // POST traffic: a router's counts for canary analysis and the dashboard; GET traffic: the
  // dashboard's time series.
  void traffic(const std::shared_ptr<http::Exchange>& exchange);
  // GET node; POST node/{cordon,uncordon,drain}.
  void node(const std::shared_ptr<http::Exchange>& exchange, const std::string& action);
  nlohmann::json node_json() const;

  Store& store_;
  Reconciler& reconciler_;
  RolloutController& rollouts_;
  DrainTracker& drains_;
  TrafficHistory& traffic_history_;
  WatchHub& hub_;
  const DeviceManager& devices_;
  EventLog& events_;
  const DaemonMetrics& metrics_;
  AuditLog audit_;
  std::function<void()> persist_;
};

}  // namespace duet::daemon
