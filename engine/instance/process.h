#pragma once
// Starting and signalling engine processes. Each engine gets its own process group, stdin
// from /dev/null and its output in a log file; it outlives duetd (no PR_SET_PDEATHSIG).

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "engine/instance/launch_spec.h"

namespace duet::engine {

// Forks and execs `spec`. Throws std::system_error when the log file cannot be opened or
// fork fails; an exec failure shows as exit status 127 and a line in the log.
pid_t spawn_process(const LaunchSpec& spec);

// Signals the whole process group of `pid` (engines may start workers of their own).
void signal_group(pid_t pid, int signal);

// The start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat), 0 if the
// process does not exist. With the pid it identifies a process across duetd restarts.
uint64_t process_start_time(pid_t pid, const std::string& proc_root = "/proc");

// Whether `pid` is still the process that started at `start_time` and has not ended (a
// zombie has ended). Engine identity always uses the real /proc, never --proc-root.
bool process_running(pid_t pid, uint64_t start_time);

}  // namespace duet::engine
