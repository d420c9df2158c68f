#pragma once
// Hands out engine ports from `--port-range`, never one that duetd already gave out or that
// something else on the host is listening on.

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace duet::daemon {

class PortAllocator {
 public:
  PortAllocator(uint16_t first, uint16_t last) : first_(first), last_(last), next_(first) {}
  // Parses "20000-20999"; throws std::invalid_argument.
  static PortAllocator parse(const std::string& range);

  // A free port, or nullopt when the range is used up.
  std::optional<uint16_t> allocate();
  // Marks a port as taken (an adopted engine's).
  void reserve(uint16_t port) { taken_.insert(port); }
  void release(uint16_t port) { taken_.erase(port); }

 private:
  uint16_t first_, last_, next_;
  std::set<uint16_t> taken_;
};

}  // namespace duet::daemon
