#pragma once
// What a replica's process is started with: the expanded command, its environment, where
// its output goes and, for the cpu handler, the cores it is pinned to.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/instance/resource_limits.h"
#include "engine/instance/run_as.h"

namespace duet::engine {

struct LaunchSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to the few variables inherited from duetd
  std::string log_path;
  std::vector<int> cpus;  // empty = not pinned
  std::optional<RunAs> run_as;  // none: duetd's own user
  std::string cgroup;  // the replica's cgroup folder (replica_cgroup.h); empty: none
  ResourceLimits limits;  // resources.limits
  // Limit controllers the cgroup v2 root lacks: the replica's v1 folder of each.
  std::map<std::string, std::string> limit_cgroups_v1;

  LimitFolders limit_folders() const { return {cgroup, limit_cgroups_v1}; }
};

// Replaces `${NAME}` in `text` with vars[NAME]; unknown names stay as written.
std::string expand_variables(const std::string& text, const std::map<std::string, std::string>& vars);

}  // namespace duet::engine
