#include "sim/fault_injector.h"

namespace duet::sim {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

FaultInjector::Arrival FaultInjector::on_inference_request() {
  uint64_t before = arrived_.fetch_add(1, std::memory_order_relaxed);
  if (crash_after_ && before >= *crash_after_) return Arrival::crash;
  if (hung() || (hang_after_ && before >= *hang_after_)) {
    hung_.store(true, std::memory_order_relaxed);
    return Arrival::hang;
  }
  return Arrival::serve;
}

bool FaultInjector::draw_failure() {
  if (fail_rate_ <= 0) return false;
  uint64_t n = draws_.fetch_add(1, std::memory_order_relaxed);
  // The top 53 bits give a uniform double in [0, 1), so a rate of 1 always fails.
  double u = static_cast<double>(mix64(seed_ ^ mix64(n)) >> 11) * 0x1.0p-53;
  return u < fail_rate_;
}

}  // namespace duet::sim
