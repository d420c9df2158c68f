#include "engine/instance/process.h"

#include "duet/common/file_text.h"
#include "engine/instance/replica_cgroup.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>
#include <vector>

namespace duet::engine {

namespace {

// Engines see only these of duetd's variables, plus their own: like a container, an engine
// must not depend on how the daemon happened to be started.
constexpr const char* kInherited[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "TMPDIR"};

std::vector<std::string> build_environment(const LaunchSpec& spec) {
  std::vector<std::string> env;
  std::map<std::string, std::string> own;  // of the engine's user, not duetd's
  if (spec.run_as) own = {{"HOME", spec.run_as->home}, {"USER", spec.run_as->name}};
  for (const char* name : kInherited) {
    if (spec.env.count(name)) continue;
    if (auto it = own.find(name); it != own.end())
      env.push_back(it->first + "=" + it->second);
    else if (const char* v = std::getenv(name))
      env.push_back(std::string(name) + "=" + v);
  }
  for (const auto& [k, v] : spec.env) env.push_back(k + "=" + v);
  return env;
}

// Closes every descriptor above stderr. duetd's own (its API socket above all) must not live
// on in engines: an engine holding duetd's listening socket after duetd died would queue the
// next client's connection forever.
void close_inherited_descriptors() {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
  for (int fd = 3; fd < 65536; ++fd) ::close(fd);
}

// `what` and errno's text to the engine's log (stderr once dup2'ed): async-signal-safe.
void report_in_child(const char* what) {
  const char* err = std::strerror(errno);
  (void)!::write(2, what, std::strlen(what));
  (void)!::write(2, err, std::strlen(err));
  (void)!::write(2, "\n", 1);
}

[[noreturn]] void fail_in_child(const char* what, int status) {
  report_in_child(what);
  ::_exit(status);
}

// Moves the calling process into the cgroup whose cgroup.procs is `procs`: what it forks
// from then on is born there. Async-signal-safe.
bool join_cgroup(const char* procs) {
  int fd = ::open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool joined = ::write(fd, "0", 1) == 1;
  ::close(fd);
  return joined;
}

[[noreturn]] void exec_child(const LaunchSpec& spec, const std::vector<std::string>& cgroup_procs, int log_fd,
                             std::vector<char*>& argv, std::vector<char*>& envp) {
  // Only async-signal-safe calls from here on: we are a fork of a threaded process.
  ::setpgid(0, 0);
  int devnull = ::open("/dev/null", O_RDONLY);
  ::dup2(devnull, 0);
  ::dup2(log_fd, 1);
  ::dup2(log_fd, 2);
  close_inherited_descriptors();
  // Before the exec, so that everything the engine forks is born in it. A cgroup that cannot be
  // joined leaves the process group as the only handle on its children: said, not fatal.
  // The v1 folders hold limits: an engine outside them would run unlimited.
  for (std::size_t i = 0; i < cgroup_procs.size(); ++i)
    if (!join_cgroup(cgroup_procs[i].c_str())) {
      if (i > 0) fail_in_child("duetd: cannot join the replica's limit cgroup: ", 126);
      report_in_child("duetd: cannot join the replica's cgroup, only its process group tracks it: ");
    }
  if (!spec.cpus.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu : spec.cpus) CPU_SET(cpu, &set);
    ::sched_setaffinity(0, sizeof set, &set);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (spec.run_as && !become(*spec.run_as))
    fail_in_child("duetd: cannot run as the engine user (engineUser): ", 126);
  ::execvpe(argv[0], argv.data(), envp.data());
  fail_in_child("duetd: exec failed: ", 127);
}

}  // namespace

pid_t spawn_process(const LaunchSpec& spec) {
  if (spec.argv.empty()) throw std::invalid_argument("empty command");
  std::vector<std::string> cgroup_procs;  // the v2 cgroup first, then the v1 limit folders
  if (!spec.cgroup.empty()) {
    create_cgroup(spec.cgroup);
    kill_cgroup(spec.cgroup);  // what an earlier run of the replica left behind
    cgroup_procs.push_back(spec.cgroup + "/cgroup.procs");
  }
  if (!spec.limits.empty()) apply_limits(spec.limit_folders(), spec.limits);
  for (const auto& [controller, folder] : spec.limit_cgroups_v1) cgroup_procs.push_back(folder + "/cgroup.procs");
  int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) throw std::system_error(errno, std::generic_category(), spec.log_path);
  auto env = build_environment(spec);
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid == 0) exec_child(spec, cgroup_procs, log_fd, argv, envp);
  int fork_errno = errno;
  ::close(log_fd);
  if (pid < 0) throw std::system_error(fork_errno, std::generic_category(), "fork");
  ::setpgid(pid, pid);  // also here: signal_group must work before the child has run
  return pid;
}

void signal_group(pid_t pid, int signal) {
  if (pid <= 0) return;
  if (::kill(-pid, signal) != 0) ::kill(pid, signal);
}

namespace {
struct ProcStat {
  char state = '?';
  uint64_t start_time = 0;
};

ProcStat read_proc_stat(pid_t pid, const std::string& proc_root) {
  ProcStat out;
  auto stat = read_text_file(proc_root + "/" + std::to_string(pid) + "/stat").value_or("");
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= stat.size()) return out;
  std::istringstream fields(stat.substr(close_paren + 2));
  fields >> out.state;  // field 3
  std::string field;
  // Fields 4..21 come before the start time, field 22.
  for (int i = 4; i < 22; ++i) fields >> field;
  fields >> out.start_time;
  return out;
}
}  // namespace

uint64_t process_start_time(pid_t pid, const std::string& proc_root) {
  return read_proc_stat(pid, proc_root).start_time;
}

bool process_running(pid_t pid, uint64_t start_time) {
  if (pid <= 0 || start_time == 0) return false;
  auto stat = read_proc_stat(pid, "/proc");
  return stat.start_time == start_time && stat.state != 'Z' && stat.state != 'X';
}

}  // namespace duet::engine
