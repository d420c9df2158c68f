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

std::optional<CrashMode> parse_crash_mode(std::string_view text) {
  if (text == "rst") return CrashMode::rst;
  if (text == "fin") return CrashMode::fin;
  if (text == "error-event-then-done") return CrashMode::error_event_then_done;
  if (text == "no-finish") return CrashMode::no_finish;
  if (text == "abort") return CrashMode::abort;
  if (text == "stall") return CrashMode::stall;
  return std::nullopt;
}

bool FaultInjector::draw(uint64_t stream, uint64_t n, double rate) const {
  // The top 53 bits give a uniform double in [0, 1), so a rate of 1 always draws.
  double u = static_cast<double>(mix64(seed_ ^ mix64(n) ^ stream) >> 11) * 0x1.0p-53;
  return u < rate;
}

bool FaultInjector::draw_failure() {
  if (fail_rate_ <= 0) return false;
  return draw(0, draws_.fetch_add(1, std::memory_order_relaxed), fail_rate_);
}

std::optional<uint64_t> FaultInjector::draw_answer_crash() {
  if (!answer_crash_.after_tokens || answer_crash_.rate <= 0) return std::nullopt;
  constexpr uint64_t kCrashStream = 0x63726173685f6472;  // its own sequence, apart from 500s'
  if (!draw(kCrashStream, crash_draws_.fetch_add(1, std::memory_order_relaxed), answer_crash_.rate))
    return std::nullopt;
  return answer_crash_.after_tokens;
}

}  // namespace duet::sim
