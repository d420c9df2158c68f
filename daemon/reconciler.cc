#include "daemon/reconciler.h"

#include <boost/asio/post.hpp>
#include <set>

#include "daemon/daemon_logger.h"
#include "daemon/replica_revision.h"
#include "duet/api/watch_event.h"

namespace duet::daemon {

using manifest::EngineDeployment;
using nlohmann::json;

namespace {
// "0,1,2": how ${DEVICE_IDS} and events list a replica's devices.
std::string joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
  return out;
}

// Stable replicas are `<deployment>-<i>`, canary replicas `<deployment>-canary-<i>`.
std::string replica_name(const EngineDeployment& d, api::Track track, int index) {
  return d.metadata.name + (track == api::Track::canary ? "-canary-" : "-") + std::to_string(index);
}

}  // namespace

Reconciler::Reconciler(boost::asio::io_context& io, Store& store, WatchHub& hub,
                       PortAllocator& ports, DevicePool& devices, ReplicaPlanner& planner,
                       EventLog& events, const DrainTracker& drains, ReconcilerOptions options)
    : io_(io),
      store_(store),
      hub_(hub),
      ports_(ports),
      devices_(devices),
      planner_(planner),
      events_(events),
      drains_(drains),
      options_(std::move(options)),
      drain_timer_(io) {}

void Reconciler::trigger() {
  if (pass_queued_) return;
  pass_queued_ = true;
  boost::asio::post(io_, [this] {
    pass_queued_ = false;
    reconcile();
  });
}

void Reconciler::reconcile() {
  const auto& deployments = store_.objects("EngineDeployment");
  std::set<std::string> names;
  for (const auto& [name, stored] : deployments) {
    names.insert(name);
    reconcile_deployment(std::get<EngineDeployment>(stored.object));
  }
  planner_.retain(names);
  std::vector<std::string> orphans;
  for (const auto& [name, replica] : replicas_)
    if (!replica.terminating && !deployments.count(replica.instance->config().identity.deployment))
      orphans.push_back(name);
  for (const auto& name : orphans) stop_replica(name);
  publish_status_changes();
}

void Reconciler::reconcile_deployment(const EngineDeployment& d) {
  auto target = planner_.target(d);
  auto census = take_census(d.metadata.name, target);
  auto plan = planner_.plan(d, census);
  auto replacement = !plan.one_at_a_time ? Replacement::all_at_once
                     : census.settled()  ? Replacement::one_now
                                         : Replacement::wait;
  reconcile_track(*target.stable, api::Track::stable, target.stable_revision, plan.stable, replacement);
  reconcile_track(target.canary ? *target.canary : d, api::Track::canary, target.canary_revision,
                  target.canary ? plan.canary : 0, Replacement::all_at_once);
}

ReplicaCensus Reconciler::take_census(const std::string& deployment,
                                      const RolloutTarget& target) const {
  ReplicaCensus c;
  for (const auto& [name, replica] : replicas_) {
    const auto& id = replica.instance->config().identity;
    if (id.deployment != deployment) continue;
    bool canary = id.track == api::Track::canary;
    if (replica.terminating) {
      ++c.terminating;
      if (canary && replica.placed) ++c.canary_present;
      continue;
    }
    bool ready = replica.instance->ready();
    if (!ready) ++c.not_ready;
    if (canary) {
      ++c.canary;
      if (replica.placed) ++c.canary_present;
      if (ready && replica.revision == target.canary_revision) ++c.canary_ready;
    } else {
      ++c.stable;
      if (replica.revision != target.stable_revision)
        ++c.stable_outdated;
      else if (ready)
        ++c.stable_ready;
    }
  }
  return c;
}

void Reconciler::reconcile_track(const EngineDeployment& d, api::Track track,
                                 const std::string& revision, int count, Replacement replacement) {
  for (int i = 0; i < count; ++i) {
    auto name = replica_name(d, track, i);
    auto it = replicas_.find(name);
    if (it == replicas_.end() || (!it->second.placed && !it->second.terminating)) {
      place_replica(d, track, i, revision);
      // A replica that is not Ready yet counts as the one down (the census predates it).
      if (replacement == Replacement::one_now) replacement = Replacement::wait;
    } else if (!it->second.terminating && it->second.revision != revision &&
               replacement != Replacement::wait) {
      // The new replica starts once the old one is gone (it holds the port and devices).
      reconcile_logger().info("replica_outdated", {{"engine", name}, {"version", d.version}});
      stop_replica(name);
      if (replacement == Replacement::one_now) replacement = Replacement::wait;
    }
  }
  std::vector<std::string> surplus;
  for (const auto& [name, replica] : replicas_) {
    const auto& id = replica.instance->config().identity;
    if (id.deployment == d.metadata.name && id.track == track && id.replica >= count &&
        !replica.terminating)
      surplus.push_back(name);
  }
  for (const auto& name : surplus) stop_replica(name);
}

void Reconciler::publish_status_changes() {
  const auto& deployments = store_.objects("EngineDeployment");
  for (auto it = published_status_.begin(); it != published_status_.end();)
    it = deployments.count(it->first) ? std::next(it) : published_status_.erase(it);
  for (const auto& [name, stored] : deployments) {
    auto object = store_.to_json(stored);
    auto& last = published_status_[name];
    if (object["status"] == last) continue;
    last = object["status"];
    hub_.publish(api::WatchEventType::modified, api::kDeploymentKind, std::move(object));
  }
}

engine::EngineConfig Reconciler::engine_config(const EngineDeployment& d, api::Track track,
                                               int index, const Placement& placement) const {
  engine::EngineConfig c;
  c.identity = {replica_name(d, track, index), d.metadata.name, index, d.version, track};
  c.host = options_.engine_host;
  c.port = placement.port;
  if (placement.allocation) {
    c.devices = placement.allocation->device_ids;
    c.launch.env = placement.allocation->env;
    c.launch.cpus = placement.allocation->cpus;
  }
  c.readiness = d.engine.readiness;
  c.liveness = d.engine.liveness;
  c.grace = std::chrono::seconds(d.engine.termination_grace_seconds);
  std::map<std::string, std::string> vars = {{"PORT", std::to_string(c.port)},
                                             {"DEVICE_IDS", joined(c.devices)},
                                             {"DEVICE_COUNT", std::to_string(c.devices.size())},
                                             {"REPLICA", std::to_string(index)},
                                             {"VERSION", d.version},
                                             {"NAME", c.identity.name}};
  for (const auto& arg : d.engine.command) c.launch.argv.push_back(engine::expand_variables(arg, vars));
  for (const auto& [k, v] : d.engine.env) c.launch.env[k] = engine::expand_variables(v, vars);
  c.launch.env["PORT"] = vars["PORT"];
  c.launch.env["DUET_REPLICA"] = c.identity.name;
  c.launch.env["DUET_DEPLOYMENT"] = d.metadata.name;
  c.launch.env["DUET_VERSION"] = d.version;
  c.launch.log_path = log_path(c.identity.name);
  c.launch.limits = d.limits;
  set_node_launch(c.launch, c.identity.name);
  return c;
}

Reconciler::Placement Reconciler::find_placement(const EngineDeployment& d,
                                                 const std::string& name) {
  Placement p;
  if (cordoned_) {
    p.reason = "the node is cordoned (duetctl uncordon)";
    return p;
  }
  auto port = ports_.allocate();
  if (!port) {
    p.reason = "no free port in --port-range";
    return p;
  }
  auto result = devices_.allocate(handler_of(store_, d), static_cast<std::size_t>(d.devices), name);
  if (!result) {
    ports_.release(*port);
    p.reason = result.reason;
    return p;
  }
  p.port = *port;
  p.allocation = std::move(result.allocation);
  return p;
}

void Reconciler::place_replica(const EngineDeployment& d, api::Track track, int index,
                               const std::string& revision) {
  auto name = replica_name(d, track, index);
  auto placement = find_placement(d, name);
  auto existing = replicas_.find(name);
  bool is_new = existing == replicas_.end();
  if (!placement.allocation && !is_new)
    return existing->second.instance->hold(placement.reason);  // still waiting, same replica
  auto instance = make_instance(engine_config(d, track, index, placement));
  bool placed = placement.allocation.has_value();
  auto handler = handler_of(store_, d);
  replicas_[name] = {instance, revision, placed, false, std::nullopt, handler, {}};
  publish(is_new ? api::WatchEventType::added : api::WatchEventType::modified, *instance);
  if (!placed) return instance->hold(placement.reason);
  reconcile_logger().info("replica_placed",
                          {{"engine", name}, {"port", placement.port}, {"devices", d.devices}});
  auto devices = joined(instance->config().devices);
  events_.normal(d.metadata.name, name, "Scheduled",
                 "assigned port " + std::to_string(placement.port) +
                     (devices.empty() ? "" : ", " + handler + " devices " + devices));
  instance->start();
}

void Reconciler::stop_replica(const std::string& name) {
  auto& entry = replicas_.at(name);
  entry.terminating = true;
  auto instance = entry.instance;
  auto gone = [this, name, instance, placed = entry.placed] {
    if (placed) {
      ports_.release(instance->config().port);
      devices_.release(name);
    }
    publish(api::WatchEventType::deleted, *instance);
    retired_restarts_[instance->config().identity.deployment] += instance->restarts();
    replicas_.erase(name);
    trigger();  // a replacement may be waiting for this one to be gone
  };
  if (!instance->serving()) return instance->terminate(std::move(gone));
  instance->drain(std::move(gone));  // publishes it Draining: the routers stop picking it
  auto now = DrainTracker::Clock::now();
  entry.drain = Replica::Drain{hub_.resource_version(), now, now + instance->config().grace};
  check_drains();
}

void Reconciler::check_drains() {
  auto now = DrainTracker::Clock::now();
  std::vector<std::string> done;
  bool draining = false;
  for (auto& [name, replica] : replicas_) {
    if (!replica.drain) continue;
    bool drained = drains_.drained(name, replica.drain->since, replica.drain->started,
                                   hub_.watchers() > 0, replica.instance->adopted(), now);
    if (!drained && now < replica.drain->deadline) {
      draining = true;
      continue;
    }
    const auto& id = replica.instance->config().identity;
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(now - replica.drain->started);
    auto seconds = std::to_string(took.count() / 1000) + "." + std::to_string(took.count() % 1000 / 100) + "s";
    if (drained)
      events_.normal(id.deployment, name, "Drained", "no request in flight after " + seconds);
    else
      events_.warning(id.deployment, name, "DrainTimedOut",
                      std::to_string(drains_.in_flight(name, now)) + " request(s) still in flight after " +
                          seconds + " (terminationGracePeriodSeconds)");
    reconcile_logger().info("replica_drained",
                            {{"engine", name}, {"in_time", drained}, {"ms", took.count()}});
    replica.drain.reset();
    done.push_back(name);
  }
  // terminate() may finish at once (the process is gone) and erase the replica.
  for (const auto& name : done)
    if (auto it = replicas_.find(name); it != replicas_.end()) it->second.instance->terminate();
  if (!draining || drain_check_armed_) return;
  drain_check_armed_ = true;
  drain_timer_.expires_after(std::chrono::milliseconds(200));
  drain_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // cancelled: the reconciler may be gone
    drain_check_armed_ = false;
    check_drains();
  });
}

api::EngineStatus Reconciler::status_of(const Replica& replica) const {
  auto status = replica.instance->status();
  if (replica.drain && status.state == api::EngineState::draining) {
    auto now = DrainTracker::Clock::now();
    auto left = std::chrono::ceil<std::chrono::seconds>(std::max(replica.drain->deadline, now) - now);
    status.message = std::to_string(drains_.in_flight(status.name, now)) + " in flight, " +
                     std::to_string(left.count()) + " s left";
  }
  return status;
}

void Reconciler::on_child_exit(pid_t pid, int status) {
  for (auto& [name, replica] : replicas_) {
    if (replica.instance->pid() == pid) {
      // Keep the instance alive through the callback: it may erase its own replica entry.
      auto instance = replica.instance;
      instance->on_exit(status);
      return;
    }
  }
}

void Reconciler::evict(const Evictions& engines) {
  for (const auto& [name, why] : engines) {
    auto it = replicas_.find(name);
    if (it == replicas_.end() || it->second.terminating) continue;
    reconcile_logger().warn("engine_device_unhealthy", {{"engine", name}, {"reason", why}});
    events_.warning(it->second.instance->config().identity.deployment, name, "DeviceUnhealthy", why);
    stop_replica(name);  // once it is gone, reconcile places it again on healthy devices
  }
}

void Reconciler::cordon(bool on) {
  if (cordoned_ == on) return;
  cordoned_ = on;
  reconcile_logger().info(on ? "node_cordoned" : "node_uncordoned");
  trigger();  // uncordoned: Pending replicas are placed
}

void Reconciler::drain_all() {
  cordon(true);
  std::vector<std::string> running;
  for (const auto& [name, replica] : replicas_)
    if (!replica.terminating && replica.placed) running.push_back(name);
  for (const auto& name : running) {
    events_.normal(replicas_.at(name).instance->config().identity.deployment, name, "NodeDrain",
                   "the node is drained for maintenance (duetctl drain)");
    stop_replica(name);
  }
}

std::shared_ptr<engine::EngineInstance> Reconciler::make_instance(engine::EngineConfig config) {
  return std::make_shared<engine::EngineInstance>(
      io_.get_executor(), std::move(config),
      [this](const engine::EngineInstance& e) { on_instance_change(e); });
}

void Reconciler::on_instance_change(const engine::EngineInstance& instance) {
  auto it = replicas_.find(instance.name());
  if (it != replicas_.end() && it->second.instance.get() == &instance) {
    record_engine_events(events_, it->second.observed, instance);
    it->second.observed = observe(instance);
  }
  publish(api::WatchEventType::modified, instance);
  trigger();  // readiness moves rollouts on and lets the next replica be replaced
}

void Reconciler::set_node_launch(engine::LaunchSpec& launch, const std::string& name) const {
  launch.run_as = options_.run_as;
  launch.cgroup = options_.cgroups ? options_.cgroups->replica(name) : std::string();
  launch.limit_cgroups_v1.clear();
  if (!options_.cgroups) return;
  for (auto [limited, controller] : {std::pair{launch.limits.memory_bytes.has_value(), "memory"},
                                     {launch.limits.pids.has_value(), "pids"}})
    if (auto folder = options_.cgroups->replica_v1(controller, name); limited && !folder.empty())
      launch.limit_cgroups_v1[controller] = folder;
}

std::string Reconciler::log_path(const std::string& name) const {
  return options_.log_dir + "/" + name + ".log";
}

void Reconciler::publish(api::WatchEventType type, const engine::EngineInstance& instance) {
  hub_.publish(type, api::kEngineKind, api::to_json(instance.status()));
}

std::vector<std::string> Reconciler::log_paths() const {
  std::vector<std::string> paths;
  for (const auto& [name, replica] : replicas_) paths.push_back(replica.instance->config().launch.log_path);
  return paths;
}

std::vector<api::EngineStatus> Reconciler::engines() const {
  std::vector<api::EngineStatus> out;
  for (const auto& [name, replica] : replicas_) out.push_back(status_of(replica));
  return out;
}

std::optional<api::EngineStatus> Reconciler::engine(const std::string& name) const {
  auto it = replicas_.find(name);
  if (it == replicas_.end()) return std::nullopt;
  return status_of(it->second);
}

std::map<std::string, int> Reconciler::restart_totals() const {
  auto totals = retired_restarts_;
  for (const auto& [name, replica] : replicas_)
    totals[replica.instance->config().identity.deployment] += replica.instance->restarts();
  return totals;
}

Reconciler::ReplicaCount Reconciler::count_replicas(const std::string& deployment) const {
  ReplicaCount count;
  for (const auto& [name, replica] : replicas_) {
    const auto& instance = *replica.instance;
    if (instance.config().identity.deployment != deployment || replica.terminating) continue;
    ++count.replicas;
    if (instance.ready()) ++count.ready;
  }
  return count;
}

}  // namespace duet::daemon
