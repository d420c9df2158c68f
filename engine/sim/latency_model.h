#pragma once
// When duet-sim's simulated tokens are due: the first after ttft, each later one tpot after
// the one before. Pure arithmetic on time points the caller passes in, so tests need no clock.

#include <chrono>
#include <cstdint>

namespace duet::sim {

class LatencyModel {
 public:
  using Clock = std::chrono::steady_clock;

  LatencyModel(std::chrono::microseconds ttft, std::chrono::microseconds tpot)
      : ttft_(ttft), tpot_(tpot) {}

  // No delay at all: answers are written at once, without timers (the benchmark path).
  bool instant() const { return ttft_.count() == 0 && tpot_.count() == 0; }

  // When token `index` (0 = first) of a generation that started at `start` is due.
  Clock::time_point token_due(Clock::time_point start, uint64_t index) const;

  // How many of `total` tokens are due by `now`: a late timer catches up in one step.
  uint64_t tokens_due(Clock::time_point start, Clock::time_point now, uint64_t total) const;

  // When a whole answer of `tokens` tokens is due: ttft + tpot * (tokens - 1).
  Clock::time_point completion_due(Clock::time_point start, uint64_t tokens) const {
    return token_due(start, tokens == 0 ? 0 : tokens - 1);
  }

  std::chrono::microseconds ttft() const { return ttft_; }
  std::chrono::microseconds tpot() const { return tpot_; }

 private:
  std::chrono::microseconds ttft_;
  std::chrono::microseconds tpot_;
};

}  // namespace duet::sim
