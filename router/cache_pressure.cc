#include "router/cache_pressure.h"

#include <algorithm>
#include <cmath>

namespace duet::router {

namespace {
// `average` moved towards the rate of `count` since `before`, over `seconds`, by the share
// of kCacheRateWindow that passed. The counts wrap; their difference does not.
void follow(std::atomic<float>& average, uint32_t count, uint32_t before, double seconds) {
  double rate = static_cast<uint32_t>(count - before) / seconds;
  double kept = std::exp(-seconds / std::chrono::duration<double>(kCacheRateWindow).count());
  average.store(static_cast<float>(kept * average.load(std::memory_order_relaxed) + (1 - kept) * rate),
                std::memory_order_relaxed);
}
}  // namespace

void CacheRates::sample(std::span<EndpointLoad* const> loads, std::chrono::steady_clock::time_point now) {
  std::map<uint64_t, Last> seen;
  for (EndpointLoad* load : loads) {
    Last current{load->cache_written.load(std::memory_order_relaxed), load->cache_sent.load(std::memory_order_relaxed),
                 now};
    if (auto it = last_.find(load->id); it != last_.end()) {
      double seconds = std::chrono::duration<double>(now - it->second.at).count();
      if (seconds <= 0) {
        seen.emplace(load->id, it->second);
        continue;
      }
      follow(load->cache_write_rate, current.written, it->second.written, seconds);
      follow(load->cache_send_rate, current.sent, it->second.sent, seconds);
    }
    seen.emplace(load->id, current);
  }
  last_ = std::move(seen);
}

double cache_pressure_doublings(double rate, double capacity, double pool_rate, double pool_capacity) {
  if (pool_rate <= 0 || capacity <= 0 || pool_capacity <= 0) return 0;
  double turnover = (rate / capacity) / (pool_rate / pool_capacity);
  if (turnover <= 0) return -kMostPressureDoublings;
  return std::clamp(std::log2(turnover), -kMostPressureDoublings, kMostPressureDoublings);
}

double cache_reuse(double pool_write_rate, double pool_send_rate) {
  if (pool_send_rate <= 0) return 0;
  return std::clamp(1 - pool_write_rate / pool_send_rate, 0.0, 1.0);
}

}  // namespace duet::router
