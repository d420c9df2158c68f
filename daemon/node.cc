#include "daemon/node.h"

#include <filesystem>

#include "daemon/api/api_scope.h"
#include "daemon/daemon_logger.h"
#include "daemon/replica_revision.h"
#include "daemon/ui/ui_files.h"
#include "duet/api/watch_event.h"
#include "duet/common/openai_error.h"
#include "duet/common/tls.h"

namespace duet::daemon {

using nlohmann::json;

namespace {
jwt::Settings jwt_settings(const NodeApiAuth& auth) {
  return {auth.issuer, auth.audience, auth.jwks_file, auth.hmac_secret_file,
          std::chrono::seconds(auth.leeway_seconds)};
}

// The replicas' cgroup root, or process groups alone where cgroup v2 cannot be written.
std::optional<engine::CgroupRoot> open_cgroups(const DaemonOptions& o) {
  std::string why;
  auto root = engine::CgroupRoot::open(o.cgroup_root, o.state_dir, "/proc", why);
  if (root)
    duetd_logger().info("engine_cgroups", {{"root", root->path},
                                           {"memory", root->controller_place("memory")},
                                           {"pids", root->controller_place("pids")}});
  else
    duetd_logger().warn("engine_cgroups",
                        {{"root", "none"}, {"fallback", "process groups"}, {"why", why}});
  return root;
}

std::shared_ptr<boost::asio::ssl::context> api_tls(const NodeApiTls& t) {
  if (!t.configured()) return nullptr;
  return tls::make_server_context({.cert = t.cert_file, .key = t.key_file,
                                   .min_version = t.min_version, .client_ca = t.client_ca_file});
}

// API answers are for the caller alone and change at once: no cache keeps them, and no
// browser reads one as anything but what its Content-Type says (docs/security.md).
std::vector<std::pair<std::string, std::string>> api_answer_headers() {
  return {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}};
}

deviceplugin::RegistryOptions device_options(const DaemonOptions& o) {
  deviceplugin::RegistryOptions d;
  d.paths = {o.dev_root, o.sys_root, o.proc_root};
  return d;
}
}  // namespace

Node::Node(boost::asio::io_context& io, const DaemonOptions& options)
    : options_(options),
      api_tls_(api_tls(options.tls)),
      ports_(PortAllocator::parse(options.port_range)),
      hub_(io),
      store_(hub_),
      devices_(io, device_options(options), hub_),
      rollouts_(
          io, events_,
          [this](const manifest::EngineDeployment& d) { return replica_revision(d, handler_of(store_, d)); },
          [this] { reconciler_.trigger(); }),
      reconciler_(io, store_, hub_, ports_, devices_, rollouts_, events_, drains_,
                  {options.log_dir(), "127.0.0.1", options.engine_run_as, open_cgroups(options)}),
      log_rotator_(io, {}, [this] { return reconciler_.log_paths(); }),
      checkpoint_(io, options.state_dir + "/checkpoint.json", [this] { return checkpoint_state(); }),
      metrics_(devices_, reconciler_, rollouts_),
      traffic_history_(io),
      api_(store_, reconciler_, rollouts_, hub_, devices_, events_, metrics_, drains_,
           traffic_history_),
      local_server_(io, [this](std::shared_ptr<http::Exchange> e) { api_.handle(e); },
                    {.server_name = "duetd", .default_headers = api_answer_headers()}),
      tcp_server_(io, [this](std::shared_ptr<http::Exchange> e) { api_.handle(e); },
                  {.server_name = "duetd",
                   .default_headers = api_answer_headers(),
                   .header_check = [this](const http::RequestHeader& header,
                                          const std::string& remote, std::string& caller) {
                     return check_token(header, remote, caller);
                   },
                   .tls = api_tls_}) {
  if (options.auth.configured()) verifier_ = jwt::Verifier::load(jwt_settings(options.auth));
  hub_.set_node_name(options.node_name);
}

json Node::checkpoint_state() const {
  return {{"format", 1},
          {"resourceVersion", hub_.resource_version()},
          {"watch", hub_.checkpoint_json()},
          {"objects", store_.checkpoint_json()},
          {"rollouts", rollouts_.checkpoint_json()},
          {"engines", reconciler_.checkpoint_json()},
          {"node", {{"unschedulable", reconciler_.cordoned()}}}};
}

void Node::start() {
  std::filesystem::create_directories(options_.state_dir);
  std::filesystem::create_directories(options_.log_dir());
  auto loaded = checkpoint_.load(options_.accept_state_loss);
  devices_.start([this](const Evictions& engines) {
    reconciler_.evict(engines);
    reconciler_.trigger();  // a device that came back may let a Pending replica start
  });
  // Orphans are told apart only against a checkpoint. A duetd without one (its state lost)
  // leaves the replicas it cannot place running, and the routers serving them (static
  // stability); a replica placed again under the same name kills what its cgroup held.
  if (!loaded.data.is_null()) {
    restore(loaded.data);
    reconciler_.collect_orphan_cgroups();
  }
  store_.set_persist([this] { checkpoint_.save_now(); });
  api_.set_persist([this] { checkpoint_.save_now(); });
  store_.on_change([this] { reconciler_.trigger(); });
  store_.set_status_source([this](const std::string& name) { return deployment_status(name); });
  hub_.set_on_publish([this] { checkpoint_.save_soon(); });
  hub_.set_persist([this] { checkpoint_.save_now(); });
  hub_.set_snapshot_source([this](json& snapshot) {
    snapshot[api::kSnapshotRuntimeClasses] = store_.list_json(api::kRuntimeClassKind);
    snapshot[api::kSnapshotDeployments] = store_.list_json(api::kDeploymentKind);
    snapshot[api::kSnapshotRoutes] = store_.list_json(api::kRouteKind);
    snapshot[api::kSnapshotEngines] = json::array();
    for (const auto& engine : reconciler_.engines()) snapshot[api::kSnapshotEngines].push_back(api::to_json(engine));
    snapshot[api::kSnapshotDevices] = devices_.devices_json();
  });
  if (const auto& who = options_.engine_run_as)
    duetd_logger().info("engine_identity", {{"user", who->name},
                                            {"uid", who->uid},
                                            {"gid", who->gid},
                                            {"groups", who->groups.size()}});
  else
    duetd_logger().warn(
        "engine_identity",
        {{"user", "duetd's own"}, {"note", "no engineUser: engines can read what duetd reads"}});
  reconciler_.trigger();
  log_rotator_.start();
  listen();
}

void Node::restore(const json& checkpoint) {
  for (const auto& problem : store_.restore(checkpoint.value("objects", json::object())))
    duetd_logger().error("checkpoint_object_dropped", {{"problem", problem}});
  // Continue the resourceVersion past everything already handed out.
  uint64_t version = checkpoint.value("resourceVersion", uint64_t{0});
  for (const auto& kind : {"RuntimeClass", "EngineDeployment", "Route"})
    for (const auto& [name, stored] : store_.objects(kind)) version = std::max(version, stored.resource_version);
  hub_.restore(version, checkpoint.value("watch", json::object()));
  for (const auto& problem : rollouts_.restore(checkpoint.value("rollouts", json::object())))
    duetd_logger().error("checkpoint_rollout_dropped", {{"problem", problem}});
  reconciler_.cordon(checkpoint.value("node", json::object()).value("unschedulable", false));
  auto started = std::chrono::steady_clock::now();
  int adopted = reconciler_.adopt(checkpoint.value("engines", json::array()));
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  duetd_logger().info("engines_adopted", {{"count", adopted}, {"us", took.count()}});
}

void Node::listen() {
  std::vector<std::string> local, tcp;
  for (const auto& a : options_.api) {
    auto address = Address::parse(a);
    if (address.kind == Address::Kind::unix_socket) {
      std::filesystem::create_directories(std::filesystem::path(address.path).parent_path());
      local_server_.listen(address);
      local.push_back(a);
    } else {
      tcp_server_.listen(address);
      tcp.push_back(a);
    }
  }
  for (const auto& a : local) duetd_logger().info("listening", {{"api", a}, {"port", 0}});
  auto ports = tcp_server_.ports();
  for (std::size_t i = 0; i < tcp.size(); ++i)
    duetd_logger().info(
        "listening",
        {{"api", tcp[i]}, {"port", ports[i]}, {"auth", "jwt"}, {"tls", options_.tls.configured()}});
}

namespace {
http::Response token_refusal(http::bhttp::status status, unsigned version, std::string challenge,
                             const std::string& message) {
  http::Response res(status, version);
  res.set(http::bhttp::field::www_authenticate, std::move(challenge));
  res.set(http::bhttp::field::content_type, "application/json");
  int code = static_cast<int>(status);
  res.body() = openai_error_body(code, message, openai_error_type(code), "Authorization");
  return res;
}
}  // namespace

std::optional<http::Response> Node::check_token(const http::RequestHeader& req,
                                                const std::string& remote,
                                                std::string& caller) const {
  auto path = req.target().substr(0, req.target().find('?'));
  if (path == "/healthz" || path == "/readyz") return std::nullopt;
  // The dashboard's files are public, like a login page: the page asks for a token, and every
  // API call it makes carries it (docs/dashboard.md).
  if (ui::is_ui_path(path) && req.method() == http::bhttp::verb::get) return std::nullopt;
  auto token = jwt::bearer_token(req[http::bhttp::field::authorization]);
  auto verdict = token ? verifier_->verify(*token, std::chrono::system_clock::now()) : jwt::Verdict{};
  if (!token) verdict.reason = jwt::reason::missing;
  if (!verdict.ok) {
    duetd_logger().warn("api_auth_failed", {{"reason", verdict.reason}, {"client", remote}});
    return token_refusal(http::bhttp::status::unauthorized, req.version(),
                         "Bearer error=\"invalid_token\", error_description=\"" + verdict.reason + "\"",
                         "bearer token refused: " + verdict.reason);
  }
  Scope needed = required_scope(req.method(), path);
  if (!grants(verdict.claims, needed)) {
    std::string scope(scope_name(needed));
    duetd_logger().warn("api_scope_refused", {{"sub", verdict.subject},
                                              {"needs", scope},
                                              {"method", std::string(req.method_string())},
                                              {"path", std::string(path)},
                                              {"client", remote}});
    return token_refusal(http::bhttp::status::forbidden, req.version(),
                         "Bearer error=\"insufficient_scope\", scope=\"" + scope + "\"",
                         "bearer token lacks scope " + scope + " for " +
                             std::string(req.method_string()) + " " + std::string(path));
  }
  caller = "sub:" + verdict.subject;
  return std::nullopt;
}

void Node::reload(const DaemonOptions& options) {
  std::shared_ptr<const jwt::Verifier> verifier;
  if (options.auth.configured()) verifier = jwt::Verifier::load(jwt_settings(options.auth));
  // TLS on or off changes what listeners speak: that takes a restart; new files do not.
  bool tls_switch = options.tls.configured() != options_.tls.configured();
  auto tls = tls_switch ? nullptr : api_tls(options.tls);
  if (verifier) verifier_ = std::move(verifier);
  if (!tls_switch) {
    api_tls_ = tls;
    tcp_server_.set_tls(std::move(tls));
    options_.tls = options.tls;
  }
  for (auto [changed, name] : {std::pair{options.api != options_.api, "api"},
                               {options.state_dir != options_.state_dir, "stateDir"},
                               {options.log_dir() != options_.log_dir(), "engineLogDir"},
                               {options.port_range != options_.port_range, "portRange"},
                               {options.engine_user != options_.engine_user, "engineUser"},
                               {options.node_name != options_.node_name, "nodeName"},
                               {options.cgroup_root != options_.cgroup_root, "cgroupRoot"},
                               {tls_switch, "nodeApiTls"}})
    if (changed) duetd_logger().warn("reload_needs_restart", {{"setting", name}});
  options_.auth = options.auth;
  options_.log_level = options.log_level;
  // Said before the new level applies, so that it shows even when that level is higher.
  duetd_logger().info("reloaded", {{"logLevel", options.log_level},
                                   {"auth", options.auth.configured()},
                                   {"tls", options_.tls.configured()}});
  Logger::set_min_level(Logger::parse_level(options.log_level));
}

void Node::stop() {
  checkpoint_.flush();  // duetd_main stops the loop next: a queued write would be dropped
  reconciler_.remove_empty_cgroup_root();
  log_rotator_.stop();
  hub_.close_all();
  traffic_history_.close_all();
  devices_.stop();
  local_server_.stop();
  tcp_server_.stop();
}

void Node::on_child_exit(pid_t pid, int status) { reconciler_.on_child_exit(pid, status); }

api::DeploymentStatus Node::deployment_status(const std::string& deployment) const {
  api::DeploymentStatus status;
  auto count = reconciler_.count_replicas(deployment);
  status.replicas = count.replicas;
  status.ready_replicas = count.ready;
  status.canary_weight = rollouts_.weight(deployment);
  const auto& deployments = store_.objects(api::kDeploymentKind);
  if (auto it = deployments.find(deployment); it != deployments.end())
    status.rollout = rollouts_.status(std::get<manifest::EngineDeployment>(it->second.object));
  return status;
}

std::string Node::status_line() const {
  int replicas = 0, ready = 0;
  for (const auto& e : reconciler_.engines()) {
    ++replicas;
    if (e.ready) ++ready;
  }
  int devices = 0, unhealthy = 0;
  for (const auto& [key, count] : devices_.counts()) {
    devices += count;
    if (key.second != "Healthy") unhealthy += count;
  }
  return std::to_string(store_.objects("EngineDeployment").size()) + " deployments, " +
         std::to_string(ready) + "/" + std::to_string(replicas) + " replicas ready, " +
         std::to_string(devices) + " devices (" + std::to_string(unhealthy) + " unhealthy)";
}

}  // namespace duet::daemon
