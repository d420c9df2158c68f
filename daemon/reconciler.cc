#include "daemon/reconciler.h"

#include <boost/asio/post.hpp>

#include "duet/common/log.h"

namespace duet::daemon {

using manifest::EngineDeployment;
using nlohmann::json;

namespace {
const Logger& logger() {
  static const Logger log("reconcile");
  return log;
}

std::string replica_name(const EngineDeployment& d, int index) {
  return d.metadata.name + "-" + std::to_string(index);
}

// Everything a running replica was made from: when it changes, the replica is replaced.
std::string revision_of(const EngineDeployment& d, const std::string& handler) {
  auto spec = manifest::to_json(d)["spec"];
  spec.erase("replicas");
  spec.erase("strategy");
  spec["handler"] = handler;
  return spec.dump();
}
}  // namespace

Reconciler::Reconciler(boost::asio::io_context& io, Store& store, WatchHub& hub,
                       PortAllocator& ports, ReconcilerOptions options)
    : io_(io), store_(store), hub_(hub), ports_(ports), options_(std::move(options)) {}

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
  for (const auto& [name, stored] : deployments)
    reconcile_deployment(std::get<EngineDeployment>(stored.object));
  std::vector<std::string> orphans;
  for (const auto& [name, replica] : replicas_)
    if (!replica.terminating && !deployments.count(replica.instance->config().identity.deployment))
      orphans.push_back(name);
  for (const auto& name : orphans) stop_replica(name);
}

void Reconciler::reconcile_deployment(const EngineDeployment& d) {
  const auto& classes = store_.objects("RuntimeClass");
  auto rc = classes.find(d.runtime_class);
  std::string handler =
      rc == classes.end() ? "" : std::get<manifest::RuntimeClass>(rc->second.object).handler;
  auto revision = revision_of(d, handler);
  for (int i = 0; i < d.replicas; ++i) {
    auto name = replica_name(d, i);
    auto it = replicas_.find(name);
    if (it == replicas_.end()) {
      create_replica(d, i, revision);
    } else if (!it->second.terminating && it->second.revision != revision) {
      // Replaced one by one: the new replica starts once the old one is gone.
      logger().info("replica_outdated", {{"engine", name}, {"version", d.version}});
      stop_replica(name);
    }
  }
  std::vector<std::string> surplus;
  for (const auto& [name, replica] : replicas_) {
    const auto& id = replica.instance->config().identity;
    if (id.deployment == d.metadata.name && id.replica >= d.replicas && !replica.terminating)
      surplus.push_back(name);
  }
  for (const auto& name : surplus) stop_replica(name);
}

engine::EngineConfig Reconciler::engine_config(const EngineDeployment& d, int index,
                                               uint16_t port) const {
  engine::EngineConfig c;
  c.identity = {replica_name(d, index), d.metadata.name, index, d.version, "stable"};
  c.host = options_.engine_host;
  c.port = port;
  c.readiness = d.engine.readiness;
  c.liveness = d.engine.liveness;
  c.grace = std::chrono::seconds(d.engine.termination_grace_seconds);
  std::map<std::string, std::string> vars = {
      {"PORT", std::to_string(port)}, {"DEVICE_IDS", ""},         {"DEVICE_COUNT", "0"},
      {"REPLICA", std::to_string(index)}, {"VERSION", d.version}, {"NAME", c.identity.name}};
  for (const auto& arg : d.engine.command) c.launch.argv.push_back(engine::expand_variables(arg, vars));
  for (const auto& [k, v] : d.engine.env) c.launch.env[k] = engine::expand_variables(v, vars);
  c.launch.env["PORT"] = vars["PORT"];
  c.launch.env["DUET_REPLICA"] = c.identity.name;
  c.launch.env["DUET_DEPLOYMENT"] = d.metadata.name;
  c.launch.env["DUET_VERSION"] = d.version;
  c.launch.log_path = options_.log_dir + "/" + c.identity.name + ".log";
  return c;
}

void Reconciler::create_replica(const EngineDeployment& d, int index, const std::string& revision) {
  auto port = ports_.allocate();
  auto config = engine_config(d, index, port.value_or(0));
  auto instance = std::make_shared<engine::EngineInstance>(
      io_.get_executor(), std::move(config),
      [this](const engine::EngineInstance& e) { publish("MODIFIED", e); });
  replicas_[instance->name()] = {instance, revision, false};
  publish("ADDED", *instance);
  if (!port) return instance->hold("no free port in --port-range");
  if (d.devices > 0) {
    // Device plugins come with SPEC §3; until one reports devices, none are free.
    const auto& rc = std::get<manifest::RuntimeClass>(
        store_.objects("RuntimeClass").at(d.runtime_class).object);
    return instance->hold("insufficient " + rc.handler + " devices: need " +
                          std::to_string(d.devices) + ", free 0");
  }
  instance->start();
}

void Reconciler::stop_replica(const std::string& name) {
  auto& replica = replicas_.at(name);
  replica.terminating = true;
  auto instance = replica.instance;
  instance->terminate([this, name, instance] {
    ports_.release(instance->config().port);
    publish("DELETED", *instance);
    replicas_.erase(name);
    trigger();  // a replacement may be waiting for this one to be gone
  });
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

void Reconciler::publish(const char* type, const engine::EngineInstance& instance) {
  hub_.publish(type, "Engine", instance.to_json());
}

json Reconciler::engines_json() const {
  json items = json::array();
  for (const auto& [name, replica] : replicas_) items.push_back(replica.instance->to_json());
  return items;
}

json Reconciler::engine_json(const std::string& name) const {
  auto it = replicas_.find(name);
  return it == replicas_.end() ? json() : it->second.instance->to_json();
}

json Reconciler::deployment_status(const std::string& deployment) const {
  int replicas = 0, ready = 0;
  for (const auto& [name, replica] : replicas_) {
    const auto& instance = *replica.instance;
    if (instance.config().identity.deployment != deployment || replica.terminating) continue;
    ++replicas;
    if (instance.ready()) ++ready;
  }
  return {{"replicas", replicas}, {"readyReplicas", ready}, {"canaryWeight", 0}};
}

}  // namespace duet::daemon
