#pragma once
// The faults duet-sim injects on purpose so that duetd and duet-router can be tested
// against them: a crash after N requests, a hang after N requests, and a share of 500s.

#include <atomic>
#include <cstdint>
#include <optional>

namespace duet::sim {

class FaultInjector {
 public:
  enum class Arrival { serve, crash, hang };

  FaultInjector(std::optional<uint64_t> crash_after, std::optional<uint64_t> hang_after,
                double fail_rate, uint64_t seed)
      : crash_after_(crash_after), hang_after_(hang_after), fail_rate_(fail_rate), seed_(seed) {}

  // Counts one inference request as it arrives (before it is parsed) and says what to do
  // with it: after `crash_after` served, the next one crashes the process; after
  // `hang_after`, it and everything later hangs. Thread-safe.
  Arrival on_inference_request();
  // True once the hang has begun: no request of any kind is answered any more.
  bool hung() const { return hung_.load(std::memory_order_relaxed); }
  // Draws whether a valid request is answered 500 instead (share `fail_rate`). The draws
  // are a fixed sequence for a given seed.
  bool draw_failure();

 private:
  const std::optional<uint64_t> crash_after_;
  const std::optional<uint64_t> hang_after_;
  const double fail_rate_;
  const uint64_t seed_;
  std::atomic<uint64_t> arrived_{0};
  std::atomic<uint64_t> draws_{0};
  std::atomic<bool> hung_{false};
};

// A well-mixed 64-bit value from `x` (splitmix64): lock-free draws and unguessable ids.
uint64_t mix64(uint64_t x);

}  // namespace duet::sim
