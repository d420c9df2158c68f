#pragma once
// What the load generators of bench/ share: a monotonic clock in nanoseconds, percentiles,
// and the `data:` payloads of SSE events as they arrive (duet-bench-stream,
// duet-bench-sched).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duet/common/line_splitter.h"

namespace duet::bench {

// CLOCK_MONOTONIC, the clock duet-bench-stamp stamps its events with.
int64_t monotonic_ns();

// The CLOCK_MONOTONIC stamp duet-bench-stamp wrote into an event's payload (`"t":NS`), or
// -1 for one without (`[DONE]`): arrival − stamp is what the chunk took to arrive.
int64_t event_stamp_ns(std::string_view payload);

// The value at rank p (0..1) of `values`, nearest rank below; 0 when there are none.
double percentile(std::vector<double> values, double p);

// The payload of each `data:` line as a stream's pieces arrive ("[DONE]" included). OpenAI-style
// servers (vLLM, duet-sim, duet-bench-stamp) send one line per event.
class SseReader {
 public:
  std::vector<std::string> feed(std::string_view piece);

 private:
  LineSplitter lines_;
};

}  // namespace duet::bench
