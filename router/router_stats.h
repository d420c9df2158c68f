#pragma once
// The router's metrics (SPEC §5), declared once here. Each worker thread counts into its
// own WorkerStats with relaxed atomics (nothing shared between workers on the request
// path); /metrics sums the workers when it is read and writes Prometheus text with
// prometheus-cpp's serializer.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "router/latency_histogram.h"
#include "router/request_budget.h"
#include "router/request_log.h"
#include "router/stream_splicer.h"
#include "router/string_map.h"

namespace duet::router {

// What one deployment's replicas of one track and version answered, summed over the
// workers: the counts the router reports to duetd for canary analysis (traffic_reporter.h).
struct TrafficTotals {
  std::string deployment, track, version;
  uint64_t requests = 0;
  uint64_t status_5xx = 0;   // the engine answered 5xx
  uint64_t no_response = 0;  // no engine answered (the router replied 502/503/504)
  uint64_t unavailable = 0;  // chosen for this track, answered by another (passed_over_*)
  std::array<uint64_t, kLatencyBounds.size() + 1> first_byte{};  // per bucket, last is +Inf
  std::array<uint64_t, kLatencyBounds.size() + 1> duration{};    // to the last byte, the same
};

class WorkerStats {
 public:
  // Worker thread only.
  void on_request(const RequestRecord& record);
  void count_auth_failure(std::string_view reason);
  void count_ejection() { ejections_.fetch_add(1, std::memory_order_relaxed); }
  // A stream went on on another engine: why the last one failed, how it went on, and the
  // prompt tokens the next one computes again.
  void count_migration(StreamFailure failure, StreamSplicer::Mode mode, uint64_t resent_tokens);
  void enter() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void leave() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  friend class RouterStats;
  struct Code {
    int code;
    std::atomic<uint64_t> count{0};
  };
  // One (route, pool, version) label set.
  struct Series {
    std::string route, pool, version;
    auto labels() { return std::tie(route, pool, version); }
    std::vector<std::unique_ptr<Code>> codes;
    AtomicHistogram duration, first_byte, inter_chunk;
  };

  // One (deployment, track, version).
  struct Traffic {
    std::string deployment, track, version;
    auto labels() { return std::tie(deployment, track, version); }
    std::atomic<uint64_t> requests{0}, status_5xx{0}, no_response{0}, unavailable{0};
    AtomicHistogram first_byte, duration;
  };

  // The entry of `map` labelled (a, b, c), added when missing; `last` is the one found last.
  template <class T>
  T& entry(T*& last, StringMap<std::unique_ptr<T>>& map, std::string_view a, std::string_view b,
           std::string_view c);
  Series& series(std::string_view route, std::string_view pool, std::string_view version);
  std::atomic<uint64_t>& code(Series& series, int code);
  Traffic& traffic(std::string_view deployment, std::string_view track, std::string_view version);
  void count_traffic(const RequestRecord& record);

  // Inserts (worker) and reads from the metrics page (control thread) take it; the worker's
  // own lookups do not, as it is the only writer.
  mutable std::mutex mutex_;
  StringMap<std::unique_ptr<Series>> series_;
  StringMap<std::unique_ptr<Traffic>> traffic_;
  std::string key_;  // lookup buffer
  // The entries the last request counted into (entries are never removed).
  Series* last_series_ = nullptr;
  Traffic* last_traffic_ = nullptr;
  std::vector<std::pair<std::string, std::unique_ptr<std::atomic<uint64_t>>>> auth_failures_;
  std::atomic<uint64_t> retries_{0};
  static constexpr std::size_t kFailures = static_cast<std::size_t>(StreamFailure::garbled) + 1;
  static constexpr std::size_t kModes = static_cast<std::size_t>(StreamSplicer::Mode::text) + 1;
  std::array<std::array<std::atomic<uint64_t>, kModes>, kFailures> migrations_{};
  std::atomic<uint64_t> resent_tokens_{0};
  std::atomic<uint64_t> prefix_chunks_{0}, prefix_matched_{0}, spills_{0};
  std::atomic<uint64_t> ejections_{0};
  std::atomic<int64_t> in_flight_{0};
};

class RouterStats : public RequestObserver {
 public:
  explicit RouterStats(unsigned workers);

  WorkerStats& worker(unsigned index) { return *workers_[index]; }
  // The Prometheus text of every metric, summed over the workers, with what `budget` holds.
  // Any thread.
  std::string render(const RequestBudget& budget, std::size_t prefix_index_entries) const;
  // Totals since the start, per deployment, track and version. Any thread.
  std::vector<TrafficTotals> traffic() const;

  // RequestObserver
  void on_request_done(const RequestRecord& record) override;

 private:
  std::vector<std::unique_ptr<WorkerStats>> workers_;
};

}  // namespace duet::router
