#pragma once
// The faults duet-sim injects on purpose so that duetd and duet-router can be tested
// against them: a crash after N requests, a hang after N requests, a share of 500s, and
// answers that break off after N tokens in one of the ways an engine's answers end when it
// dies (the failures duet-router's mid-stream migration must detect).

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

namespace duet::sim {

// How an answer breaks off (--crash-mode): the connection reset (rst) or closed (fin) where
// the next token should be; an in-band error event then `[DONE]`, as vLLM sends one; `[DONE]`
// without a finish_reason (no-finish); finish_reason "abort", as SGLang sends it; or nothing
// more at all, the connection left open (stall).
enum class CrashMode { rst, fin, error_event_then_done, no_finish, abort, stall };

std::optional<CrashMode> parse_crash_mode(std::string_view text);

// --crash-after-tokens N, --crash-mode, --crash-rate P.
struct AnswerCrash {
  std::optional<uint64_t> after_tokens;
  CrashMode mode = CrashMode::rst;
  double rate = 1.0;
};

class FaultInjector {
 public:
  enum class Arrival { serve, crash, hang };

  FaultInjector(std::optional<uint64_t> crash_after, std::optional<uint64_t> hang_after,
                double fail_rate, uint64_t seed, AnswerCrash answer_crash = {})
      : crash_after_(crash_after),
        hang_after_(hang_after),
        fail_rate_(fail_rate),
        seed_(seed),
        answer_crash_(answer_crash) {}

  // Counts one inference request as it arrives (before it is parsed) and says what to do
  // with it: after `crash_after` served, the next one crashes the process; after
  // `hang_after`, it and everything later hangs. Thread-safe.
  Arrival on_inference_request();
  // True once the hang has begun: no request of any kind is answered any more.
  bool hung() const { return hung_.load(std::memory_order_relaxed); }
  // Draws whether a valid request is answered 500 instead (share `fail_rate`). The draws
  // are a fixed sequence for a given seed.
  bool draw_failure();
  // Draws whether a valid request's answer breaks off (share answer_crash.rate): after how
  // many tokens it does, or none. A draw sequence of its own, fixed for a given seed.
  std::optional<uint64_t> draw_answer_crash();
  CrashMode crash_mode() const { return answer_crash_.mode; }

 private:
  // Whether the n-th draw of a sequence falls under `rate`.
  bool draw(uint64_t stream, uint64_t n, double rate) const;

  const std::optional<uint64_t> crash_after_;
  const std::optional<uint64_t> hang_after_;
  const double fail_rate_;
  const uint64_t seed_;
  std::atomic<uint64_t> arrived_{0};
  const AnswerCrash answer_crash_;
  std::atomic<uint64_t> draws_{0};
  std::atomic<uint64_t> crash_draws_{0};
  std::atomic<bool> hung_{false};
};

// A well-mixed 64-bit value from `x` (splitmix64): lock-free draws and unguessable ids.
uint64_t mix64(uint64_t x);

}  // namespace duet::sim
