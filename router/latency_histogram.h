#pragma once
// Latency histograms with the router's one set of bucket bounds (100 µs to 2 min): a plain
// one that a single request fills (the gaps between its stream chunks), and an atomic one
// that one worker thread writes and the metrics page reads from another thread.

#include <prometheus/client_metric.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace duet::router {

inline constexpr std::array<double, 19> kLatencyBounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,   0.5,     1,      2.5,   5,      10,    30,   60,    120};

// The bucket of `seconds`: the first bound it does not exceed (kLatencyBounds.size(): +Inf).
std::size_t latency_bucket(double seconds);

inline double to_seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// One request's samples; no synchronisation.
struct LocalHistogram {
  std::array<uint32_t, kLatencyBounds.size() + 1> counts{};
  uint64_t count = 0;
  double sum = 0;

  void observe(double seconds) {
    ++counts[latency_bucket(seconds)];
    ++count;
    sum += seconds;
  }
};

// Written by one thread only (its owner), read by any: relaxed atomics, no lock.
class AtomicHistogram {
 public:
  void observe(double seconds);
  void merge(const LocalHistogram& local);
  // Adds this histogram's counts to `out` (which may hold other workers' counts already).
  void add_to(prometheus::ClientMetric::Histogram& out) const;
  // Adds the count of each bucket (not cumulative; the last is +Inf) to `out`.
  void add_to(std::array<uint64_t, kLatencyBounds.size() + 1>& out) const;

 private:
  std::array<std::atomic<uint64_t>, kLatencyBounds.size() + 1> counts_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

}  // namespace duet::router
