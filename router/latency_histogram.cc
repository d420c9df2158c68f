#include "router/latency_histogram.h"

#include <algorithm>
#include <limits>

namespace duet::router {

namespace {

void add(std::atomic<uint64_t>& a, uint64_t n) {
  // Single writer: a load and a store are enough, and cheaper than a locked add.
  a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace

std::size_t latency_bucket(double seconds) {
  return static_cast<std::size_t>(
      std::lower_bound(kLatencyBounds.begin(), kLatencyBounds.end(), seconds) -
      kLatencyBounds.begin());
}

void AtomicHistogram::observe(double seconds) {
  add(counts_[latency_bucket(seconds)], 1);
  add(count_, 1);
  sum_.store(sum_.load(std::memory_order_relaxed) + seconds, std::memory_order_relaxed);
}

void AtomicHistogram::merge(const LocalHistogram& local) {
  if (local.count == 0) return;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (local.counts[i]) add(counts_[i], local.counts[i]);
  add(count_, local.count);
  sum_.store(sum_.load(std::memory_order_relaxed) + local.sum, std::memory_order_relaxed);
}

void AtomicHistogram::add_to(prometheus::ClientMetric::Histogram& out) const {
  if (out.bucket.empty()) {
    for (double bound : kLatencyBounds) out.bucket.push_back({0, bound});
    out.bucket.push_back({0, std::numeric_limits<double>::infinity()});
  }
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    out.bucket[i].cumulative_count += cumulative;
  }
  out.sample_count += count_.load(std::memory_order_relaxed);
  out.sample_sum += sum_.load(std::memory_order_relaxed);
}

void AtomicHistogram::add_to(std::array<uint64_t, kLatencyBounds.size() + 1>& out) const {
  for (std::size_t i = 0; i < counts_.size(); ++i) out[i] += counts_[i].load(std::memory_order_relaxed);
}

}  // namespace duet::router
