#pragma once
// Size-based rotation of a replica's log file, the way logrotate's `copytruncate` does it:
// the engine keeps its descriptor (opened O_APPEND, so it writes at the new end after the
// truncate), which matters because engines outlive duetd and cannot be told to reopen.
// Lines written between the copy and the truncate are lost; that window is microseconds.

#include <cstdint>
#include <string>

namespace duet::engine {

struct LogRotation {
  uint64_t max_bytes = 10 * 1024 * 1024;  // rotate once the file is larger
  int keep = 3;                           // log.1 … log.<keep>; older ones are deleted
};

// Rotates `path` when it is larger than `rotation.max_bytes`; returns whether it did.
// Never throws: a log that cannot be rotated keeps growing, the engine is not touched.
bool rotate_if_larger(const std::string& path, const LogRotation& rotation);

}  // namespace duet::engine
