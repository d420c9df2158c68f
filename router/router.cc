#include "router/router.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cmath>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>

#include "router/router_logger.h"

namespace duet::router {

namespace asio = boost::asio;

namespace {
// A successor that does not serve within this long is killed, and this router goes on.
constexpr std::chrono::seconds kSuccessorTimeout{60};
constexpr std::chrono::milliseconds kDrainPoll{50};
constexpr std::chrono::seconds kWatchdogAfterHandOver{1};

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

Router::Router(RouterConfig config, RouterLaunch launch)
    : config_(std::move(config)),
      signals_(control_, SIGINT, SIGTERM),
      hangup_(control_, SIGHUP),
      replace_signal_(control_, SIGUSR2),
      launch_(std::move(launch)),
      replace_timer_(control_),
      watchdog_delay_(control_),
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
  launch_.inherited.close_rest();  // listeners the configuration no longer has
  start_credentials();
  // A successor shares its sockets with the router it replaces, which serves until this one
  // has its routing table: only then does this one accept (announce_if_ready).
  for (auto& worker : workers_) worker->start(!launch_.inherited.successor());
  start_sources();
  // Listening, with certificates and keys loaded: systemd may start what depends on it. The
  // routing table fills in as sources deliver (/readyz tells when). A successor says so
  // once it serves, as the service's new main process.
  if (!launch_.inherited.successor()) {
    systemd_.ready(status_line());
    systemd_.start_watchdog(control_);
  }
  signals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    router_logger().info("stopping", {{"signal", signal}});
    drain(false);
  });
  do_wait_replace();
  announce_if_ready();
  run_logging_exceptions(control_);
  for (auto& worker : workers_) worker->join();
  router_logger().info("stopped");
  return 0;
}

// Every worker gets a socket of its own on each port; the first binds (port 0 becomes an
// ephemeral port), the others join it with SO_REUSEPORT. A successor first takes the
// predecessor's sockets for that address, spread over its workers; workers beyond them
// join the same port.
void Router::bind_listeners() {
  for (std::size_t index = 0; index < config_.listen.size(); ++index) {
    const auto& listen = config_.listen[index];
    auto endpoint = asio::ip::tcp::endpoint(
        asio::ip::make_address(listen.address.host == "localhost" ? "127.0.0.1"
                                                                  : listen.address.host),
        listen.address.port);
    auto inherited = launch_.inherited.take("proxy:" + listen.address.to_string());
    for (std::size_t i = 0; i < inherited.size(); ++i)
      endpoint.port(workers_[i % workers_.size()]->adopt(inherited[i], index));
    std::size_t first_new = inherited.size();
    if (first_new == 0) endpoint.port(workers_[first_new++]->listen(endpoint, index));
    for (std::size_t i = first_new; i < workers_.size(); ++i) workers_[i]->listen(endpoint, index);
    router_logger().info("listening", {{"kind", listen.tls ? "proxy-tls" : "proxy"},
                                       {"address", listen.address.to_string()},
                                       {"port", endpoint.port()},
                                       {"threads", workers_.size()},
                                       {"inherited", inherited.size()}});
  }
}

void Router::start_admin() {
  if (!config_.admin) return;
  admin_ = std::make_unique<AdminServer>(control_, *this);
  auto inherited = launch_.inherited.take("admin");
  uint16_t port = inherited.empty() ? admin_->listen(*config_.admin) : admin_->listen_on(inherited.front());
  for (std::size_t i = 1; i < inherited.size(); ++i) ::close(inherited[i]);
  router_logger().info(
      "listening", {{"kind", "admin"}, {"address", config_.admin->to_string()}, {"port", port}});
}

std::string Router::status_line() const {
  return std::to_string(config_.listen.size()) + " listener(s), " +
         std::to_string(config_.sources.size()) + " source(s), " +
         std::to_string(workers_.size()) + " worker(s)";
}

void Router::do_wait_replace() {
  replace_signal_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    replace();
    do_wait_replace();
  });
}

void Router::replace() {
  if (successor_ != 0 || draining_) {
    router_logger().warn("replace_ignored", {{"reason", draining_ ? "draining" : "a successor is starting"}});
    return;
  }
  std::vector<ListeningSocket> sockets;
  for (const auto& worker : workers_)
    for (auto [listener, fd] : worker->listening_sockets())
      sockets.push_back({"proxy:" + config_.listen[listener].address.to_string(), fd});
  if (admin_) sockets.push_back({"admin", admin_->listening_fd()});
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return replace_failed(std::strerror(errno));
  try {
    successor_ = start_successor(launch_.program, launch_.args, sockets, pipe_fds[1]);
  } catch (const std::exception& e) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return replace_failed(e.what());
  }
  ::close(pipe_fds[1]);
  router_logger().info("replacing", {{"successor", successor_}, {"program", launch_.program},
                                     {"sockets", sockets.size()}});
  successor_ready_ = std::make_unique<asio::posix::stream_descriptor>(control_, pipe_fds[0]);
  auto byte = std::make_shared<char>();
  successor_ready_->async_read_some(asio::buffer(byte.get(), 1),
                                    [this, byte](boost::system::error_code ec, std::size_t n) {
                                      if (ec == asio::error::operation_aborted) return;
                                      if (n == 1) return hand_over();
                                      replace_failed("the successor exited before it served");
                                    });
  replace_timer_.expires_after(kSuccessorTimeout);
  replace_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) replace_failed("the successor did not serve within " +
                            std::to_string(kSuccessorTimeout.count()) + " s");
  });
}

// The successor never served: it goes, this router carries on as if nothing happened.
void Router::replace_failed(const std::string& reason) {
  router_logger().error("replace_failed", {{"reason", reason}, {"successor", successor_}});
  replace_timer_.cancel();
  successor_ready_.reset();
  if (successor_ != 0) {
    ::kill(successor_, SIGKILL);
    ::waitpid(successor_, nullptr, 0);
  }
  successor_ = 0;
}

void Router::hand_over() {
  router_logger().info("replaced", {{"successor", successor_}});
  systemd_.main_pid(successor_);
  replace_timer_.cancel();
  successor_ready_.reset();
  drain(true);
}

void Router::announce_if_ready() {
  int& fd = launch_.inherited.ready_fd;
  if (fd < 0 || !ready()) return;
  char byte = 'R';
  [[maybe_unused]] auto written = ::write(fd, &byte, 1);
  ::close(fd);
  fd = -1;
  for (auto& worker : workers_) worker->start_accepting();
  // The predecessor names this process the main one as it reads the byte; pings sent before
  // that would be refused (NotifyAccess=main), so they start a moment later.
  watchdog_delay_.expires_after(kWatchdogAfterHandOver);
  watchdog_delay_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !draining_) systemd_.start_watchdog(control_);
  });
  router_logger().info("serving", {{"predecessor", "handed over"}});
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
  announce_if_ready();
}

// After a hand-over the successor is the service's main process: this one says nothing more
// to systemd, and its admin port is the successor's already.
void Router::drain(bool handed_over) {
  draining_ = true;
  if (!handed_over) systemd_.stopping();
  systemd_.stop_watchdog();
  signals_.cancel();
  hangup_.cancel();
  replace_signal_.cancel();
  watchdog_delay_.cancel();
  if (successor_ != 0 && !handed_over) replace_failed("stopping");
  if (credential_watcher_) credential_watcher_->stop();
  if (admin_ && handed_over) admin_->stop();
  for (auto& worker : workers_) worker->drain(config_.drain_timeout);
  router_logger().info("draining", {{"timeoutSeconds", config_.drain_timeout.count()}});
  wait_workers_finished();
}

void Router::wait_workers_finished() {
  for (const auto& worker : workers_)
    if (!worker->finished()) {
      replace_timer_.expires_after(kDrainPoll);
      replace_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) wait_workers_finished();
      });
      return;
    }
  stop_control();
}

// Nothing is in flight any more: what is left on the control loop stops, and run() returns.
void Router::stop_control() {
  for (auto& watcher : watchers_) watcher->stop();
  for (auto& reporter : reporters_) reporter->stop();
  scraper_.stop();
  if (admin_) admin_->stop();
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
  if (draining_) return false;  // /readyz fails as soon as a drain starts
  for (const auto& watcher : watchers_)
    if (!watcher->state().synced()) return false;
  // and the table is built from what they sent (the rebuild is posted: a /readyz read in
  // between said ready while requests still got "no routing table yet")
  return watchers_.empty() || (table_ && !rebuild_pending_);
}

}  // namespace duet::router
