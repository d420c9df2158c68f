#pragma once
// The identity engines run as (duetd's `engineUser`): another user than duetd's, so that an
// engine, or the model code it loads, cannot read duetd's secrets, its state or the node
// socket (docs/security.md). Resolved once, before any fork: the lookups are not
// async-signal-safe, the calls that take the identity in the child are.

#include <sys/types.h>

#include <string>
#include <vector>

namespace duet::engine {

struct RunAs {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary: device groups (video, render, HwHiAiUser)
  std::string home;
};

// Looks `user` up in the user database. Throws std::invalid_argument naming it when there is
// no such user, or when it is root (uid 0): engines never run as root through this setting.
RunAs resolve_run_as(const std::string& user);

// In a forked child: drops every capability the exec could keep (the ambient set), then takes
// `who`'s groups, group and user. Async-signal-safe; false (errno set) when one step failed.
bool become(const RunAs& who);

}  // namespace duet::engine
