#include "engine/instance/run_as.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <stdexcept>

namespace duet::engine {

RunAs resolve_run_as(const std::string& user) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
    throw std::invalid_argument("engineUser: no user \"" + user + "\"");
  if (found->pw_uid == 0) throw std::invalid_argument("engineUser: \"" + user + "\" is root");
  RunAs who{user, found->pw_uid, found->pw_gid, {}, found->pw_dir ? found->pw_dir : "/"};
  int count = 64;
  who.groups.resize(static_cast<std::size_t>(count));
  while (::getgrouplist(user.c_str(), who.gid, who.groups.data(), &count) < 0)
    who.groups.resize(static_cast<std::size_t>(count));  // count now says how many there are
  who.groups.resize(static_cast<std::size_t>(count));
  return who;
}

bool become(const RunAs& who) {
  // A non-root duetd given CAP_SETUID (and CAP_KILL) as ambient capabilities would pass them
  // to the engine through execve: ambient capabilities survive a change between two
  // non-zero uids. Cleared, the engine's exec gets none (no_new_privs bars file capabilities).
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return false;
  if (::setgroups(who.groups.size(), who.groups.data()) != 0) return false;
  if (::setgid(who.gid) != 0) return false;
  // Real, effective and saved uid alike (the caller is root or has CAP_SETUID): no way back.
  return ::setuid(who.uid) == 0;
}

}  // namespace duet::engine
