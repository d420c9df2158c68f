// The Reconciler's part of duetd's checkpoint: what each running replica was started with,
// and taking those replicas over again after a restart (SPEC §4), like kubelet finding its
// containers still running.
#include "daemon/reconciler.h"

#include "daemon/daemon_logger.h"
#include "engine/instance/engine_config_json.h"
#include "engine/instance/process.h"

namespace duet::daemon {

using nlohmann::json;

json Reconciler::checkpoint_json() const {
  json items = json::array();
  for (const auto& [name, replica] : replicas_) {
    const auto& instance = *replica.instance;
    if (!replica.placed || instance.pid() == 0) continue;  // nothing runs to take over
    items.push_back({{"config", engine::config_to_json(instance.config())},
                     {"revision", replica.revision},
                     {"handler", replica.handler},
                     {"pid", instance.pid()},
                     {"startTime", instance.start_time()},
                     {"restarts", instance.restarts()},
                     {"ready", instance.state() == engine::EngineState::ready},
                     {"terminating", replica.terminating}});
  }
  return items;
}

int Reconciler::adopt(const json& checkpoint) {
  int adopted = 0;
  Evictions on_bad_devices;
  for (const auto& record : checkpoint) {
    engine::EngineConfig config;
    try {
      config = engine::config_from_json(record.at("config"));
    } catch (const std::exception& e) {
      adopt_logger().error("engine_record_unreadable", {{"error", e.what()}});
      continue;
    }
    auto name = config.identity.name;
    set_node_launch(config.launch, name);
    auto pid = record.value("pid", 0);
    auto start_time = record.value("startTime", uint64_t{0});
    if (!engine::process_running(pid, start_time)) {
      adopt_logger().warn("engine_gone", {{"engine", name}, {"pid", pid}});
      continue;  // it ended while duetd was down; the reconcile pass starts a new one
    }
    auto handler = record.value("handler", "");
    ports_.reserve(config.port);
    if (!devices_.hold(handler, config.devices, name))
      on_bad_devices[name] = "a device it holds is gone or unhealthy since duetd last ran";
    auto instance = make_instance(std::move(config));
    replicas_[name] = {instance, record.value("revision", ""), true, false, std::nullopt, handler, {}};
    instance->adopt(pid, start_time, record.value("restarts", 0), record.value("ready", false));
    ++adopted;
    if (record.value("terminating", false)) stop_replica(name);  // finish the drain it was in
  }
  if (!on_bad_devices.empty()) evict(on_bad_devices);
  return adopted;
}

void Reconciler::remove_empty_cgroup_root() {
  if (!options_.cgroups) return;
  engine::remove_cgroup(options_.cgroups->path);
  for (const auto& [controller, folder] : options_.cgroups->v1_roots) engine::remove_cgroup(folder);
}

int Reconciler::collect_orphan_cgroups() {
  if (!options_.cgroups) return 0;
  int collected = 0;
  for (const auto& name : options_.cgroups->replicas()) {
    if (replicas_.count(name)) continue;
    auto cgroup = options_.cgroups->replica(name);
    auto killed = engine::kill_cgroup(cgroup);
    adopt_logger().warn("orphan_cgroup_collected", {{"cgroup", cgroup}, {"killed", killed}});
    engine::remove_cgroup(cgroup);  // once its processes are reaped; else at the next start
    ++collected;
  }
  // Limit folders in v1 hierarchies hold no process of their own (the v2 cgroup was killed).
  for (const auto& [controller, folder] : options_.cgroups->v1_roots) {
    engine::CgroupRoot v1{folder, {}};
    for (const auto& name : v1.replicas())
      if (!replicas_.count(name)) engine::remove_cgroup(v1.replica(name));
  }
  return collected;
}

}  // namespace duet::daemon
