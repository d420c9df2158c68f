#include "router/router_stats.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <sstream>
#include <tuple>

#include "duet/jwt.h"

namespace duet::router {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// The metrics of one family, merged over workers by label set.
struct FamilyBuilder {
  MetricFamily family;
  std::map<Labels, ClientMetric> by_labels;

  FamilyBuilder(std::string name, std::string help, MetricType type)
      : family{std::move(name), std::move(help), type, {}} {}
  ClientMetric& at(const Labels& labels) {
    auto& m = by_labels[labels];
    m.label = labels;
    return m;
  }
  MetricFamily done() {
    for (auto& [labels, metric] : by_labels) family.metric.push_back(std::move(metric));
    return std::move(family);
  }
};

}  // namespace

// Most requests carry the labels of the one before: compared label by label, they cost a
// few dozen instructions where building the key and hashing it cost some 370 (callgrind).
template <class T>
T& WorkerStats::entry(T*& last, StringMap<std::unique_ptr<T>>& map, std::string_view a,
                      std::string_view b, std::string_view c) {
  const auto labels = std::tie(a, b, c);
  if (last && last->labels() == labels) return *last;
  key_.assign(a).append(1, '\0').append(b).append(1, '\0').append(c);
  if (auto it = map.find(std::string_view(key_)); it != map.end()) return *(last = it->second.get());
  auto item = std::make_unique<T>();
  item->labels() = labels;
  std::lock_guard lock(mutex_);
  return *(last = map.emplace(key_, std::move(item)).first->second.get());
}

WorkerStats::Series& WorkerStats::series(std::string_view route, std::string_view pool,
                                         std::string_view version) {
  return entry(last_series_, series_, route, pool, version);
}

WorkerStats::Traffic& WorkerStats::traffic(std::string_view deployment, std::string_view track,
                                           std::string_view version) {
  return entry(last_traffic_, traffic_, deployment, track, version);
}

// A request counts for the track that answered it and, when that was not the one chosen
// first, against the one passed over: a canary the router ejected fails its analysis
// instead of escaping it (docs/decisions.md).
void WorkerStats::count_traffic(const RequestRecord& r) {
  auto bump = [](std::atomic<uint64_t>& a) {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  };
  if (!r.passed_over_deployment.empty()) {
    Traffic& passed_over = traffic(r.passed_over_deployment, r.passed_over_track, "");
    bump(passed_over.requests);
    bump(passed_over.unavailable);
  }
  Traffic& t = traffic(r.deployment, r.version, r.engine_version);
  bump(t.requests);
  if (r.status >= 500) bump(r.backend.empty() ? t.no_response : t.status_5xx);
  if (r.backend.empty()) return;
  t.first_byte.observe(to_seconds(r.first_byte));
  t.duration.observe(to_seconds(r.duration));
}

std::atomic<uint64_t>& WorkerStats::code(Series& s, int code) {
  for (auto& c : s.codes)
    if (c->code == code) return c->count;
  auto c = std::make_unique<Code>();
  c->code = code;
  std::lock_guard lock(mutex_);
  s.codes.push_back(std::move(c));
  return s.codes.back()->count;
}

void WorkerStats::on_request(const RequestRecord& r) {
  Series& s = series(r.route, r.pool, r.version);
  auto& count = code(s, r.status);
  count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  s.duration.observe(to_seconds(r.duration));
  if (!r.deployment.empty()) count_traffic(r);
  if (r.backend.empty()) return;  // no engine answered: no first byte, no chunks
  s.first_byte.observe(to_seconds(r.first_byte));
  s.inter_chunk.merge(r.chunk_gaps);
  // A migration's engine is not a retry: it came after the response header.
  if (r.attempts > 1 + r.migrations) retries_.fetch_add(r.attempts - 1 - r.migrations, std::memory_order_relaxed);
  prefix_chunks_.fetch_add(r.why.prompt_chunks, std::memory_order_relaxed);
  prefix_matched_.fetch_add(r.why.matched_chunks, std::memory_order_relaxed);
  if (r.why.spilled) spills_.fetch_add(1, std::memory_order_relaxed);
}

void WorkerStats::count_migration(StreamFailure failure, StreamSplicer::Mode mode, uint64_t resent_tokens) {
  migrations_[static_cast<std::size_t>(failure)][static_cast<std::size_t>(mode)].fetch_add(1, std::memory_order_relaxed);
  resent_tokens_.fetch_add(resent_tokens, std::memory_order_relaxed);
}

void WorkerStats::count_auth_failure(std::string_view reason) {
  for (auto& [name, count] : auth_failures_)
    if (name == reason) return void(count->fetch_add(1, std::memory_order_relaxed));
  std::lock_guard lock(mutex_);
  auth_failures_.emplace_back(std::string(reason), std::make_unique<std::atomic<uint64_t>>(1));
}

RouterStats::RouterStats(unsigned workers) {
  for (unsigned i = 0; i < workers; ++i) workers_.push_back(std::make_unique<WorkerStats>());
}

void RouterStats::on_request_done(const RequestRecord& record) {
  workers_[record.worker]->on_request(record);
}

std::vector<TrafficTotals> RouterStats::traffic() const {
  std::map<std::tuple<std::string, std::string, std::string>, TrafficTotals> sums;
  for (const auto& w : workers_) {
    std::lock_guard lock(w->mutex_);
    for (const auto& [key, t] : w->traffic_) {
      auto& sum = sums[{t->deployment, t->track, t->version}];
      sum.deployment = t->deployment;
      sum.track = t->track;
      sum.version = t->version;
      sum.requests += t->requests.load(std::memory_order_relaxed);
      sum.status_5xx += t->status_5xx.load(std::memory_order_relaxed);
      sum.no_response += t->no_response.load(std::memory_order_relaxed);
      sum.unavailable += t->unavailable.load(std::memory_order_relaxed);
      t->first_byte.add_to(sum.first_byte);
      t->duration.add_to(sum.duration);
    }
  }
  std::vector<TrafficTotals> out;
  for (auto& [key, sum] : sums) out.push_back(std::move(sum));
  return out;
}

std::string RouterStats::render(const RequestBudget& budget, std::size_t prefix_index_entries) const {
  FamilyBuilder requests("duet_router_requests_total",
                         "Requests by route, pool, version and status code", MetricType::Counter);
  FamilyBuilder duration("duet_router_request_duration_seconds",
                         "Time from the request header to the end of the response",
                         MetricType::Histogram);
  FamilyBuilder first_byte(
      "duet_router_first_byte_seconds",
      "Time to the first response body byte from the engine (time to first token for streams)",
      MetricType::Histogram);
  FamilyBuilder inter_chunk(
      "duet_router_inter_chunk_seconds",
      "Gap between body chunks of a response (inter-token latency for streams)",
      MetricType::Histogram);
  FamilyBuilder auth("duet_router_auth_failures_total",
                     "Requests refused by JWT verification, by reason", MetricType::Counter);
  FamilyBuilder migrations("duet_router_stream_migrations_total",
                           "Engines that took a stream over in the middle of its answer (Route migration), by "
                           "why the engine before failed and how the stream went on",
                           MetricType::Counter);
  double retries = 0, resent = 0, ejections = 0, in_flight = 0, chunks = 0, matched = 0, spills = 0;
  for (std::string_view reason : jwt::all_reasons()) auth.at({{"reason", std::string(reason)}});
  for (const auto& w : workers_) {
    std::lock_guard lock(w->mutex_);
    for (const auto& [key, s] : w->series_) {
      Labels labels = {{"pool", s->pool}, {"route", s->route}, {"version", s->version}};
      for (const auto& c : s->codes) {
        Labels with_code = {{"code", std::to_string(c->code)}};  // labels in name order
        with_code.insert(with_code.end(), labels.begin(), labels.end());
        requests.at(with_code).counter.value += static_cast<double>(c->count.load());
      }
      s->duration.add_to(duration.at(labels).histogram);
      s->first_byte.add_to(first_byte.at(labels).histogram);
      s->inter_chunk.add_to(inter_chunk.at(labels).histogram);
    }
    for (const auto& [reason, count] : w->auth_failures_)
      auth.at({{"reason", reason}}).counter.value += static_cast<double>(count->load());
    retries += static_cast<double>(w->retries_.load());
    for (std::size_t f = 0; f < WorkerStats::kFailures; ++f)
      for (std::size_t m = 0; m < WorkerStats::kModes; ++m)
        if (auto n = w->migrations_[f][m].load())
          migrations.at({{"mode", std::string(to_string(static_cast<StreamSplicer::Mode>(m)))},
                         {"reason", std::string(to_string(static_cast<StreamFailure>(f)))}})
              .counter.value += static_cast<double>(n);
    resent += static_cast<double>(w->resent_tokens_.load());
    ejections += static_cast<double>(w->ejections_.load());
    in_flight += static_cast<double>(w->in_flight_.load());
    chunks += static_cast<double>(w->prefix_chunks_.load());
    matched += static_cast<double>(w->prefix_matched_.load());
    spills += static_cast<double>(w->spills_.load());
  }
  auto single = [](std::string name, std::string help, MetricType type, double value) {
    MetricFamily f{std::move(name), std::move(help), type, {ClientMetric{}}};
    (type == MetricType::Gauge ? f.metric[0].gauge.value : f.metric[0].counter.value) = value;
    return f;
  };
  std::vector<MetricFamily> families = {
      requests.done(),
      duration.done(),
      first_byte.done(),
      inter_chunk.done(),
      auth.done(),
      single("duet_router_in_flight", "Requests being proxied now", MetricType::Gauge, in_flight),
      single("duet_router_buffered_body_bytes",
             "Request body bytes held now against limits.maxBufferedBodyBytes", MetricType::Gauge,
             static_cast<double>(budget.body_bytes())),
      single("duet_router_retries_total", "Extra endpoint attempts before a response header",
             MetricType::Counter, retries),
      migrations.done(),
      single("duet_router_stream_migration_resent_tokens_total",
             "Prompt tokens sent again to the engines that took streams over (extra prefill)",
             MetricType::Counter, resent),
      single("duet_router_ejections_total", "Endpoints taken out of rotation after failures",
             MetricType::Counter, ejections),
      single("duet_router_prefix_chunks_total",
             "Prompt prefix chunks of answered requests under a prefix policy", MetricType::Counter, chunks),
      single("duet_router_prefix_chunks_matched_total",
             "Of those, the leading chunks the picked engine held by the prefix index (estimated hit rate: "
             "matched / total)",
             MetricType::Counter, matched),
      single("duet_router_spills_total", "Requests sent to the other size pool, predicted to start sooner",
             MetricType::Counter, spills),
      single("duet_router_prefix_index_entries", "Prompt chunks the prefix index holds", MetricType::Gauge,
             static_cast<double>(prefix_index_entries))};
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace duet::router
