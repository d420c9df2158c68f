#pragma once
// Real processes for integration tests: start a binary of this build, read what it prints,
// wait for a condition with a deadline (never a sleep), and always clean up: the destructor
// kills the whole process group.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace duet::test {

using namespace std::chrono_literals;

// Path of a binary built by this tree (DUET_BIN_DIR).
std::string bin(const std::string& name);

// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = 10s);

// A loopback TCP port that was free a moment ago (bind to port 0, read it, close).
uint16_t free_port();

// Whether `pid` runs (a zombie, ended but not yet reaped, does not).
bool process_alive(int pid);

// Resident memory of `pid` in KiB (VmRSS of /proc/PID/status); -1 when it cannot be read.
long rss_kib(int pid);

// SIGKILLs every process of session `sid`.
void kill_session(int sid);

class ChildProcess {
 public:
  // Starts `argv` in its own session; stdout and stderr go to `log_path` (or a file
  // in /tmp when empty). `env` is added to this process's environment.
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
               std::string log_path = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  // Everything the process wrote so far.
  std::string output() const;
  // Waits until the output contains `text`.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout = 10s) const;
  // Sends `signal` to the process (not the group).
  void signal(int signal) const;
  // Waits for the exit; returns the wait status, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout = 10s);
  bool running();
  // SIGKILLs the child and everything in its session (engines of a duetd too), reaps it.
  void kill();

 private:
  int pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string log_path_;
  bool own_log_ = false;
};

}  // namespace duet::test
