#pragma once
// Predicted time to first token of one endpoint, learned from its own answers
// (docs/scheduling.md). Before a request's first token the engine computes the prompt tokens
// it does not hold in its prefix cache: its own, and those of the requests sent to it before
// that still wait for theirs. The model fits, by exponentially weighted least squares over
// the last few dozen first bytes, TTFT ≈ base + per_token × (tokens ahead + own uncached):
// a slower device or a busier one predicts longer, a cached prompt costs little. Until the
// work seen varies, the line is flat: one short prompt's slow first byte is no per-token cost.
//
// Shared by all worker threads: observe() takes a mutex of this endpoint only, once per
// request; predict() reads two atomics.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace duet::router {

class TtftModel {
 public:
  // Predicted TTFT, in milliseconds, for a request whose own uncached prompt tokens are
  // `own_tokens`, behind the tokens pending now; none before the first observation.
  std::optional<double> predict_ms(uint32_t own_tokens) const;
  // The same with nothing pending: what the device makes of `own_tokens` alone.
  std::optional<double> predict_alone_ms(uint32_t own_tokens) const;
  // A first byte came `ttft` after the request was sent with `work` tokens to compute
  // (pending then + its own).
  void observe(uint64_t work, std::chrono::steady_clock::duration ttft);

  // Uncached prompt tokens sent and not yet answered with a first byte.
  std::atomic<uint32_t> pending{0};
  uint64_t observations() const { return observations_.load(std::memory_order_relaxed); }

 private:
  // base + per_token × `work` (tokens to compute before the first); none before an observation.
  std::optional<double> predict_work_ms(double work) const;

  std::atomic<float> base_ms_{0};
  std::atomic<float> ms_per_token_{0};
  std::atomic<uint64_t> observations_{0};
  std::mutex mutex_;  // the sums below
  double s1_ = 0, sx_ = 0, sy_ = 0, sxx_ = 0, sxy_ = 0;
};

// A request's share of its endpoint's pending tokens, from the send to its first byte (or to
// a failure, which teaches nothing). Moves with the relay; gives its tokens back once.
class PendingPrefill {
 public:
  PendingPrefill() = default;
  PendingPrefill(TtftModel& model, uint32_t tokens, std::chrono::steady_clock::time_point now);
  PendingPrefill(PendingPrefill&& other) noexcept;
  PendingPrefill& operator=(PendingPrefill&& other) noexcept;
  ~PendingPrefill() { release(); }

  // The first byte: learn from it, then give the tokens back.
  void first_byte(std::chrono::steady_clock::time_point now);
  void release();

 private:
  TtftModel* model_ = nullptr;
  uint32_t tokens_ = 0;
  uint64_t work_ = 0;
  std::chrono::steady_clock::time_point sent_{};
};

}  // namespace duet::router
