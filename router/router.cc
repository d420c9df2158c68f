#include "router/router.h"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cmath>
#include <csignal>
#include <nlohmann/json.hpp>

#include "router/router_logger.h"

namespace duet::router {

namespace asio = boost::asio;

namespace {
// Responses in progress at SIGTERM get this long to finish before their connections close.
constexpr std::chrono::seconds kDrainGrace{10};

// How duetd's logs name this router in traffic reports: host and pid.
std::string router_id() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

// An exception from a handler unwinds out of run(); what a source or an admin client sent
// must never stop the router, so it is logged and the loop resumes (run() may be called
// again without restart()). Returns when the loop stops or runs out of work.
void run_logging_exceptions(asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      router_logger().error("control_handler_failed", {{"error", e.what()}});
    }
  }
}
}  // namespace

Router::Router(RouterConfig config)
    : config_(std::move(config)),
      signals_(control_, SIGINT, SIGTERM),
      hangup_(control_, SIGHUP),
      stats_(config_.worker_threads()),
      observers_({&access_log_, &stats_}),
      budget_(config_.limits.max_in_flight_requests, config_.limits.max_buffered_body_bytes),
      auth_failures_(config_.auth_failure_limits),
      prefix_index_(config_.scheduling.max_index_bytes / PrefixIndex::bytes_per_entry()) {
  table_ = std::make_shared<RoutingTable>();
  if (config_.rate_limit) {
    double burst = config_.rate_limit->burst ? config_.rate_limit->burst
                                             : std::ceil(config_.rate_limit->requests_per_second);
    rate_limiter_ = std::make_unique<RateLimiter>(config_.rate_limit->requests_per_second, burst);
  }
  WorkerShared shared{config_.limits,          observers_,        stats_,
                      rate_limiter_.get(),     open_connections_, budget_,
                      config_.trusted_proxies, auth_failures_,     prefix_index_};
  for (unsigned i = 0; i < config_.worker_threads(); ++i)
    workers_.push_back(std::make_unique<Worker>(i, shared));
}

Router::~Router() {
  for (auto& watcher : watchers_) watcher->stop();
  for (auto& reporter : reporters_) reporter->stop();
  scraper_.stop();
  workers_.clear();  // each drains and joins
}

// Before the workers start: their first connection already has its TLS context.
void Router::start_credentials() {
  publish_credentials(load_credentials(config_));
  credential_watcher_ = std::make_unique<CredentialWatcher>(
      control_, config_, [this](auto credentials) { publish_credentials(std::move(credentials)); });
  credential_watcher_->start();
  do_wait_hangup();
}

void Router::publish_credentials(std::shared_ptr<const Credentials> credentials) {
  for (auto& worker : workers_) worker->publish_credentials(credentials);
}

void Router::do_wait_hangup() {
  hangup_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    systemd_.reloading();
    credential_watcher_->reload("SIGHUP");
    systemd_.ready();
    do_wait_hangup();
  });
}

int Router::run() {
  bind_listeners();
  start_admin();
  start_credentials();
  for (auto& worker : workers_) worker->start();
  start_sources();
  // Listening, with certificates and keys loaded: systemd may start what depends on it. The
  // routing table fills in as sources deliver (/readyz tells when).
  systemd_.ready(std::to_string(config_.listen.size()) + " listener(s), " +
                 std::to_string(config_.sources.size()) + " source(s), " +
                 std::to_string(workers_.size()) + " worker(s)");
  systemd_.start_watchdog(control_);
  signals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    router_logger().info("stopping", {{"signal", signal}});
    shutdown();
  });
  run_logging_exceptions(control_);
  for (auto& worker : workers_) worker->join();
  router_logger().info("stopped");
  return 0;
}

// Every worker gets a socket of its own on each port; the first binds (port 0 becomes an
// ephemeral port), the others join it with SO_REUSEPORT.
void Router::bind_listeners() {
  for (std::size_t index = 0; index < config_.listen.size(); ++index) {
    const auto& listen = config_.listen[index];
    auto endpoint = asio::ip::tcp::endpoint(
        asio::ip::make_address(listen.address.host == "localhost" ? "127.0.0.1"
                                                                  : listen.address.host),
        listen.address.port);
    endpoint.port(workers_.front()->listen(endpoint, index));
    for (std::size_t i = 1; i < workers_.size(); ++i) workers_[i]->listen(endpoint, index);
    router_logger().info("listening", {{"kind", listen.tls ? "proxy-tls" : "proxy"},
                                       {"address", listen.address.to_string()},
                                       {"port", endpoint.port()},
                                       {"threads", workers_.size()}});
  }
}

void Router::start_admin() {
  if (!config_.admin) return;
  admin_ = std::make_unique<AdminServer>(control_, *this);
  uint16_t port = admin_->listen(*config_.admin);
  router_logger().info(
      "listening", {{"kind", "admin"}, {"address", config_.admin->to_string()}, {"port", port}});
}

void Router::start_sources() {
  for (const auto& source : config_.sources) {
    auto watcher =
        std::make_shared<SourceWatcher>(control_, source, [this] { schedule_rebuild(); });
    watchers_.push_back(watcher);
    watcher->start();
    auto index = watchers_.size() - 1;
    auto reporter = std::make_shared<TrafficReporter>(
        control_, watcher, stats_, router_id(), [this, index] {
          return RoutingView{index < table_versions_.size() ? table_versions_[index] : 0,
                             loads_.in_flight(index)};
        });
    reporters_.push_back(reporter);
    reporter->start();
  }
  scraper_.start();
}

// Several events in one read (a snapshot, a burst of engine changes) make one table.
void Router::schedule_rebuild() {
  if (rebuild_pending_) return;
  rebuild_pending_ = true;
  asio::post(control_, [this] { rebuild(); });
}

void Router::rebuild() {
  rebuild_pending_ = false;
  std::vector<const SourceState*> states;
  table_versions_.clear();
  for (const auto& watcher : watchers_) {
    states.push_back(&watcher->state());
    table_versions_.push_back(watcher->state().resource_version());
  }
  table_ = RoutingTable::build(states, loads_);
  // From here on no worker picks from an older table (its next request reads this one).
  for (auto& worker : workers_) worker->publish(table_);
  scraper_.table_changed();
  std::size_t endpoints = 0;
  for (const auto& route : table_->routes())
    for (const auto* d : {route.backend, route.small, route.large})
      if (d) endpoints += d->stable.size() + d->canary.size();
  router_logger().info("routing_table_updated",
                       {{"routes", table_->routes().size()}, {"routed_endpoints", endpoints}});
}

void Router::shutdown() {
  systemd_.stopping();
  systemd_.stop_watchdog();
  signals_.cancel();
  hangup_.cancel();
  if (credential_watcher_) credential_watcher_->stop();
  for (auto& watcher : watchers_) watcher->stop();
  for (auto& reporter : reporters_) reporter->stop();
  scraper_.stop();
  if (admin_) admin_->stop();
  for (auto& worker : workers_) worker->drain(kDrainGrace);
}

nlohmann::json Router::routing_table() const {
  auto body = table_->to_json();
  body["prefixIndex"] = {{"entries", prefix_index_.entries()},
                         {"maxEntries", prefix_index_.max_entries()},
                         {"maxBytes", config_.scheduling.max_index_bytes}};
  return body;
}

std::string Router::metrics() const { return stats_.render(budget_, prefix_index_.entries()); }

nlohmann::json Router::sources() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& watcher : watchers_) out.push_back(watcher->status());
  return out;
}

bool Router::ready() const {
  for (const auto& watcher : watchers_)
    if (!watcher->state().synced()) return false;
  // and the table is built from what they sent (the rebuild is posted: a /readyz read in
  // between said ready while requests still got "no routing table yet")
  return watchers_.empty() || (table_ && !rebuild_pending_);
}

}  // namespace duet::router
