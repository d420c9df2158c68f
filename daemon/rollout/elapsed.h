#pragma once
// Comparing a clock's elapsed time with a duration in seconds from a manifest, for pauses
// and analysis intervals.

#include <chrono>
#include <cstdint>

namespace duet::daemon {

// `elapsed >= seconds`, saturating: `seconds` past what the clock's duration holds never
// elapses. Converting it instead would wrap negative (3000000h in nanoseconds) and end a
// pause at once.
template <class Duration>
bool has_elapsed(Duration elapsed, int64_t seconds) {
  constexpr auto max_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(Duration::max()).count();
  return seconds < max_seconds && elapsed >= std::chrono::seconds(seconds);
}

}  // namespace duet::daemon
