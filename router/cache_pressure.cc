#include "router/cache_pressure.h"

#include <algorithm>
#include <cmath>

namespace duet::router {

void CacheWriteRates::sample(std::span<EndpointLoad* const> loads, std::chrono::steady_clock::time_point now) {
  std::map<uint64_t, Last> seen;
  for (EndpointLoad* load : loads) {
    uint32_t written = load->cache_written.load(std::memory_order_relaxed);
    if (auto it = last_.find(load->id); it != last_.end()) {
      double seconds = std::chrono::duration<double>(now - it->second.at).count();
      if (seconds <= 0) {
        seen.emplace(load->id, it->second);
        continue;
      }
      double rate = static_cast<uint32_t>(written - it->second.written) / seconds;  // wraps as the count does
      double kept = std::exp(-seconds / std::chrono::duration<double>(kCacheRateWindow).count());
      double before = load->cache_write_rate.load(std::memory_order_relaxed);
      load->cache_write_rate.store(static_cast<float>(kept * before + (1 - kept) * rate), std::memory_order_relaxed);
    }
    seen.emplace(load->id, Last{written, now});
  }
  last_ = std::move(seen);
}

double cache_pressure_doublings(double rate, double capacity, double pool_rate, double pool_capacity) {
  if (pool_rate <= 0 || capacity <= 0 || pool_capacity <= 0) return 0;
  double turnover = (rate / capacity) / (pool_rate / pool_capacity);
  if (turnover <= 0) return -kMostPressureDoublings;
  return std::clamp(std::log2(turnover), -kMostPressureDoublings, kMostPressureDoublings);
}

}  // namespace duet::router
