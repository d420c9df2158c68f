#pragma once
// A replica's `resources.limits` (memory, pids) and how they reach the kernel: written into
// the replica's cgroup v2 folder where the cgroup root has the controller, else into a
// folder of that controller's cgroup v1 hierarchy (hybrid hosts, as kubelet's cgroupfs
// driver does there). A limit that nothing can enforce fails the start, saying why.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace duet::engine {

struct ResourceLimits {
  std::optional<uint64_t> memory_bytes;
  std::optional<uint64_t> pids;
  bool empty() const { return !memory_bytes && !pids; }
};

// A Kubernetes quantity of bytes: "1073741824", "512Mi", "64Gi", "1G", "500M", "128Ki", "1k".
// Throws std::invalid_argument saying what is wrong.
uint64_t parse_byte_quantity(std::string_view text);

// Where one replica's limits go: its cgroup v2 folder, and for each controller the v2 root
// lacks, the replica's folder in that controller's v1 hierarchy.
struct LimitFolders {
  std::string v2;                           // empty: no cgroup
  std::map<std::string, std::string> v1;    // "memory" / "pids" -> folder
  std::string of(const std::string& controller) const {
    auto it = v1.find(controller);
    return it != v1.end() ? it->second : v2;
  }
};

// Creates the folders and writes the limits (memory without swap, so that the limit ends in
// an OOM kill rather than in swapping). Throws std::runtime_error naming the limit and the
// file it could not write.
void apply_limits(const LimitFolders& folders, const ResourceLimits& limits);
// OOM kills counted in the replica's memory folder so far (memory.events' oom_kill on v2,
// memory.oom_control's on v1); 0 when there is none.
uint64_t oom_kills(const LimitFolders& folders);

}  // namespace duet::engine
