#pragma once
// accept() failing (EMFILE, ENFILE, ENOBUFS: out of descriptors or memory) fails again at
// once if retried at once, and a loop that retries and logs each time spins a core and floods
// the log. This is the wait before the next try (100 ms doubling to 1 s) and whether to say so
// (once per episode of failures, not once per try). One listener's; not thread-safe.

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace duet {

class AcceptBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{100};
  static constexpr std::chrono::milliseconds kMost{1000};

  // Counts a failed accept; the wait before the next one.
  std::chrono::milliseconds failed() {
    ++failures_;
    delay_ = delay_.count() == 0 ? kFirst : std::min(delay_ * 2, kMost);
    return delay_;
  }
  // True for the first failure of an episode: the one to log.
  bool first_failure() const { return failures_ == 1; }
  // An accept succeeded: how many failed in the episode it ends (0: there was none).
  uint64_t succeeded() {
    delay_ = {};
    uint64_t failures = failures_;
    failures_ = 0;
    return failures;
  }

 private:
  std::chrono::milliseconds delay_{0};
  uint64_t failures_ = 0;
};

}  // namespace duet
