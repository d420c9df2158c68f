#pragma once
// A cgroup v2 folder per replica (docs/decisions.md, "Engines"): what an engine forks, even
// a worker that left its process group (vLLM's workers, a shell's background job), stays in
// its replica's cgroup, and is killed with it on exit, restart and delete. The folders live
// under one root per duetd; one that the checkpoint does not know is an orphan, killed and
// removed at start. Where cgroup v2 cannot be written (some containers), duetd falls back to
// process groups and says so.

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet::engine {

// Where duetd puts its replicas' cgroups.
struct CgroupRoot {
  std::string path;  // a folder of the cgroup2 file system
  // For each limit controller (memory, pids) the root does not have in cgroup v2, a folder
  // of that controller's v1 hierarchy to put replicas' limits in (hybrid hosts).
  std::map<std::string, std::string> v1_roots;

  // `configured`: an absolute path in the cgroup2 file system, "auto" or "none". Auto: the
  // cgroup2 mount plus duetd's own cgroup, then `engines` when that cgroup is delegated
  // to duetd (systemd's Delegate=yes), else (duetd in the root cgroup, as in a container)
  // `duet-<hash of the state dir>`, so that two duetds never share one. Nullopt and `why`
  // when there is none that duetd can write.
  static std::optional<CgroupRoot> open(const std::string& configured, const std::string& state_dir,
                                        const std::string& proc_root, std::string& why);

  std::string replica(const std::string& name) const { return path + "/" + name; }
  // The replica's v1 folder of `controller`; empty when its limits go in cgroup v2.
  std::string replica_v1(const std::string& controller, const std::string& name) const;
  // Where each limit controller is, for the log: "v2", the v1 folder, or "none".
  std::string controller_place(const std::string& controller) const;
  // The replica cgroups under the root (folder names).
  std::vector<std::string> replicas() const;
};

// Writes a cgroup knob (cgroup.subtree_control, memory.max...): a file that must exist, never
// created (in a folder that is not a cgroup, or without the controller, it is not there).
bool write_knob(const std::string& path, std::string_view value);
// Makes the folder (an existing one is fine). False, with errno, when it cannot.
bool create_cgroup(const std::string& cgroup);
// The processes in it; empty when it is gone.
std::vector<pid_t> cgroup_processes(const std::string& cgroup);
// SIGKILLs every process in it (cgroup.kill where the kernel has it, 5.14+, else one by one);
// the number of processes it found.
std::size_t kill_cgroup(const std::string& cgroup);
// Removes the folder once its processes are gone; false while some remain.
bool remove_cgroup(const std::string& cgroup);
// Removes it on `ex` as soon as the processes just killed are gone (up to a few seconds;
// a folder left is removed at the next start or reused by the replica's next run).
void remove_cgroup_soon(boost::asio::any_io_executor ex, std::string cgroup);

// What the replica uses now, when the kernel counts it (memory needs the memory controller
// enabled above it; cpu.stat's usage is always there).
struct CgroupUsage {
  std::optional<uint64_t> memory_bytes;
  std::optional<double> cpu_seconds;
};
CgroupUsage cgroup_usage(const std::string& cgroup);

}  // namespace duet::engine
