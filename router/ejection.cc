#include "router/ejection.h"

#include <algorithm>

namespace duet::router {

namespace {

constexpr unsigned kMaxDoublings = 6;

// Whether one more ejection keeps the pool within its share: half of it (rounded down),
// or all of it when every endpoint has failed since its last good response.
bool may_eject(const Pool& pool, std::chrono::steady_clock::time_point now) {
  std::size_t ejected = 0, failing = 0;
  for (const auto& e : pool) {
    ejected += e.load->ejected(now);
    failing += e.load->failures.load(std::memory_order_relaxed) > 0;
  }
  return (ejected + 1) * 2 <= pool.size() || failing == pool.size();
}

}  // namespace

bool report_failure(const Pool& pool, const Endpoint& endpoint, Failure failure,
                    std::chrono::steady_clock::time_point now) {
  EndpointLoad& load = *endpoint.load;
  uint32_t failures = load.failures.fetch_add(1, std::memory_order_relaxed) + 1;
  if (failure == Failure::status_5xx && failures < kEjectAfter5xx) return false;
  if (load.ejected(now) || !may_eject(pool, now)) return false;
  uint32_t n = load.ejections.fetch_add(1, std::memory_order_relaxed);
  auto duration = kEjectionBase * (1u << std::min(n, kMaxDoublings));
  load.ejected_until.store((now + duration).time_since_epoch().count(), std::memory_order_relaxed);
  return true;
}

void report_success(const Endpoint& endpoint) {
  EndpointLoad& load = *endpoint.load;
  // Plain loads first: the common case (a healthy endpoint) then writes nothing shared.
  if (load.failures.load(std::memory_order_relaxed) != 0)
    load.failures.store(0, std::memory_order_relaxed);
  if (load.ejections.load(std::memory_order_relaxed) != 0)
    load.ejections.store(0, std::memory_order_relaxed);
}

}  // namespace duet::router
