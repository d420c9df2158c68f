#include "sim/latency_model.h"

namespace duet::sim {

LatencyModel::Clock::time_point LatencyModel::token_due(Clock::time_point start,
                                                        uint64_t index) const {
  // Deadlines are absolute from the start so that timer lateness never accumulates.
  return start + ttft_ + tpot_ * static_cast<int64_t>(index);
}

uint64_t LatencyModel::tokens_due(Clock::time_point start, Clock::time_point now,
                                  uint64_t total) const {
  if (total == 0 || now < start + ttft_) return 0;
  if (tpot_.count() == 0) return total;
  auto after_first = std::chrono::duration_cast<std::chrono::microseconds>(now - start - ttft_);
  uint64_t due = 1 + static_cast<uint64_t>(after_first / tpot_);
  return due < total ? due : total;
}

}  // namespace duet::sim
