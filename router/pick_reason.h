#pragma once

#include <cstdint>

namespace duet::router {

// Why the scheduling policy picked an endpoint: the x-duet-decision header and the access log, and
// the router's prefix and spill metrics.
struct PickReason {
  uint16_t matched_chunks = 0;   // prefix policies: the prompt's leading chunks it held
  uint16_t prompt_chunks = 0;    // and the prompt's chunks
  uint32_t uncached_tokens = 0;  // duet: the prompt tokens it must compute, as estimated
  float predicted_ttft_ms = -1;  // duet: its predicted TTFT; < 0: none yet
  bool spilled = false;          // duet: sent to the other size pool, predicted to start sooner
};

}  // namespace duet::router
