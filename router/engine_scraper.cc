#include "router/engine_scraper.h"

#include <cmath>
#include <set>

#include "router/engine_metrics.h"
#include "router/prefix_index.h"

namespace duet::router {

namespace asio = boost::asio;

namespace {
// Calls `f` once for every engine a route of `table` sends to.
template <typename F>
void for_each_routed(const RoutingTable& table, F f) {
  std::set<uint64_t> seen;
  for (const auto& route : table.routes())
    for (const auto* d : {route.backend, route.small, route.large}) {
      if (!d) continue;
      for (const auto* pool : {&d->stable, &d->canary})
        for (const auto& e : *pool)
          if (seen.insert(e.load->id).second) f(e);
    }
}
}  // namespace

// One scrape in progress: the body so far (bounded) and the call to cancel.
struct EngineScraper::Scrape {
  explicit Scrape(asio::io_context& io) : deadline(io) {}
  std::shared_ptr<EndpointLoad> load;
  std::string body;
  bool ok = false;
  std::shared_ptr<http::ClientCall> call;
  asio::steady_timer deadline;  // the whole scrape, body included: a drip-feeding engine ends
};

EngineScraper::EngineScraper(asio::io_context& control, TableSource table, std::chrono::milliseconds interval)
    : control_(control), table_(std::move(table)), interval_(interval), timer_(control) {}

void EngineScraper::start() { tick(); }

void EngineScraper::stop() {
  stopped_ = true;
  timer_.cancel();
  auto running = std::move(running_);
  for (auto& [id, scrape] : running) {
    scrape->deadline.cancel();
    // The call holds its handlers, which hold the scrape, which held the call: let go of it
    // here, since its end may never run once the control loop has stopped (a leak at exit).
    if (auto call = std::move(scrape->call)) call->cancel();
  }
}

void EngineScraper::table_changed() {
  if (!stopped_) scan();
}

void EngineScraper::tick() {
  if (stopped_) return;
  scan();
  std::vector<EndpointLoad*> loads;
  if (auto table = table_()) for_each_routed(*table, [&](const Endpoint& e) { loads.push_back(e.load.get()); });
  cache_rates_.sample(loads, std::chrono::steady_clock::now());
  timer_.expires_after(interval_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

void EngineScraper::scan() {
  if (auto table = table_())
    for_each_routed(*table, [this](const Endpoint& e) {
      if (!running_.count(e.load->id)) scrape(e);
    });
}

void EngineScraper::scrape(const Endpoint& endpoint) {
  auto s = std::make_shared<Scrape>(control_);
  s->load = endpoint.load;
  uint64_t id = endpoint.load->id;
  running_[id] = s;
  Address to;
  to.host = endpoint.address.address().to_string();
  to.port = endpoint.address.port();
  auto request = http::make_request(http::bhttp::verb::get, "/metrics", to);
  http::StreamHandlers handlers;
  handlers.on_header = [s](const http::ClientResponseHeader& header) { s->ok = header.result_int() == 200; };
  handlers.on_data = [s](std::string_view piece) {
    if (s->body.size() + piece.size() > kMaxMetricsBytes) {
      s->ok = false;  // more than any engine's metrics: not read further
      if (s->call) s->call->cancel();
      return;
    }
    s->body.append(piece);
  };
  handlers.on_end = [this, s, id](http::error_code ec) {
    s->deadline.cancel();
    s->call.reset();  // the call holds these handlers, which hold s: no cycle left behind
    if (auto it = running_.find(id); it != running_.end() && it->second == s) running_.erase(it);
    if (ec || !s->ok) return;
    auto m = parse_engine_metrics(s->body);
    if (!m.any()) return;
    auto& load = *s->load;
    load.engine_queue.store(static_cast<uint32_t>(std::min(m.running.value_or(0) + m.waiting.value_or(0), 1e9)),
                            std::memory_order_relaxed);
    load.engine_kv_permille.store(static_cast<uint32_t>(std::lround(m.kv_usage.value_or(0) * 1000)),
                                  std::memory_order_relaxed);
    if (m.kv_capacity_tokens)
      load.cache_chunks.store(static_cast<uint32_t>(std::min(*m.kv_capacity_tokens / kTokensPerPrefixChunk, 1e9)),
                              std::memory_order_relaxed);
    load.metrics_at.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  };
  s->call = http::ClientCall::stream(control_.get_executor(), to, std::move(request), kScrapeTimeout,
                                     std::move(handlers));
  s->deadline.expires_after(kScrapeTimeout);
  s->deadline.async_wait([s](boost::system::error_code ec) {
    if (!ec && s->call) s->call->cancel();
  });
}

}  // namespace duet::router
