#include "router/traffic_reporter.h"

#include <nlohmann/json.hpp>

#include "duet/api/traffic_report.h"
#include "router/credentials.h"
#include "router/latency_histogram.h"
#include "router/router_logger.h"

namespace duet::router {

using nlohmann::json;

namespace {

// What changed between two totals of one deployment, track and version.
api::TrafficItem item_since(const TrafficTotals& now, const TrafficTotals& before) {
  api::TrafficItem item;
  item.deployment = now.deployment;
  item.track = api::parse_track(now.track).value_or(api::Track::stable);
  item.version = now.version;
  auto& c = item.counts;
  c.requests = now.requests - before.requests;
  c.errors = {{"status5xx", now.status_5xx - before.status_5xx},
              {"noResponse", now.no_response - before.no_response},
              {"unavailable", now.unavailable - before.unavailable}};
  c.bounds.assign(kLatencyBounds.begin(), kLatencyBounds.end());
  for (std::size_t i = 0; i < now.first_byte.size(); ++i) {
    c.buckets.push_back(now.first_byte[i] - before.first_byte[i]);
    c.duration_buckets.push_back(now.duration[i] - before.duration[i]);
  }
  return item;
}

}  // namespace

TrafficReporter::TrafficReporter(boost::asio::io_context& io,
                                 std::shared_ptr<const SourceWatcher> watcher,
                                 const RouterStats& stats, std::string router_id,
                                 std::function<RoutingView()> routing_view,
                                 std::chrono::milliseconds period)
    : io_(io),
      watcher_(std::move(watcher)),
      stats_(stats),
      router_id_(std::move(router_id)),
      routing_view_(std::move(routing_view)),
      period_(period),
      timer_(io) {}

void TrafficReporter::start() { schedule(); }

void TrafficReporter::stop() {
  stopped_ = true;
  timer_.cancel();
  if (call_) call_->cancel();
}

void TrafficReporter::schedule() {
  if (stopped_) return;
  timer_.expires_after(period_);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->report();
    self->schedule();
  });
}

void TrafficReporter::report() {
  if (call_ || !watcher_->state().synced()) return;  // one report at a time
  const auto& deployments = watcher_->state().deployments();
  std::map<Key, TrafficTotals> sent;
  api::TrafficReport traffic;
  traffic.router = router_id_;
  static const TrafficTotals kNone;
  for (auto& totals : stats_.traffic()) {
    if (!deployments.count(totals.deployment)) continue;  // not this duetd's
    Key key{totals.deployment, totals.track, totals.version};
    auto it = accepted_.find(key);
    const auto& before = it == accepted_.end() ? kNone : it->second;
    if (totals.requests == before.requests) continue;
    traffic.items.push_back(item_since(totals, before));
    sent.emplace(std::move(key), std::move(totals));
  }
  // Sent even with no items: duetd's drains wait for every router that reports, so an idle
  // router must still say, each second, which table it routes with (and that it is alive).
  auto view = routing_view_();
  traffic.seen_version = view.seen_version;
  traffic.in_flight = std::move(view.in_flight);
  duet::http::ClientRequest request;
  duet::http::TlsContext tls;
  try {
    request = source_request(watcher_->source(), duet::http::bhttp::verb::post, "/apis/v1/traffic",
                             api::to_json(traffic).dump());
    tls = source_tls(watcher_->source());
  } catch (const std::exception& e) {
    return router_logger().warn("traffic_report_failed", {{"source", watcher_->source().name}, {"error", e.what()}});
  }
  call_ = duet::http::ClientCall::fetch(
      io_.get_executor(), watcher_->source().address, std::move(request), period_,
      [weak = weak_from_this(), sent = std::move(sent)](
          duet::http::error_code ec, duet::http::ClientResponse response) mutable {
        if (auto self = weak.lock()) self->on_reply(ec, response, std::move(sent));
      },
      std::move(tls));
}

void TrafficReporter::on_reply(duet::http::error_code ec,
                               const duet::http::ClientResponse& response,
                               std::map<Key, TrafficTotals> sent) {
  call_.reset();
  if (!ec && response.result() == duet::http::bhttp::status::ok) {
    for (auto& [key, totals] : sent) accepted_[key] = std::move(totals);
    if (failing_) router_logger().info("traffic_report_recovered", {{"source", watcher_->source().name}});
    failing_ = false;
    return;
  }
  if (failing_) return;
  failing_ = true;
  router_logger().warn("traffic_report_failed",
                       {{"source", watcher_->source().name},
                        {"error", ec ? ec.message() : "status " + std::to_string(response.result_int())}});
}

}  // namespace duet::router
