#pragma once
// One supervised replica: its process, probes and lifecycle
// (Pending → Starting → Ready ⇄ Unready → [Draining →] Terminating → gone), restarted with
// CrashLoopBackOff. Everything runs on one executor (duetd's reconcile loop).

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "duet/api/engine_status.h"
#include "duet/api/enums.h"
#include "engine/instance/exit_watch.h"
#include "engine/instance/http_prober.h"
#include "engine/instance/launch_spec.h"

namespace duet::engine {

using api::EngineState;

struct EngineIdentity {
  std::string name;  // <deployment>-<replica>, or <deployment>-canary-<replica>
  std::string deployment;
  int replica = 0;
  std::string version;
  api::Track track = api::Track::stable;
};

struct EngineConfig {
  EngineIdentity identity;
  LaunchSpec launch;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::vector<std::string> devices;  // ids of the devices allocated to it
  std::optional<ProbeSpec> readiness;
  std::optional<ProbeSpec> liveness;
  std::chrono::seconds grace{30};
};

// Delay before the next restart: 1 s doubling to 5 min, back to 1 s after 10 min Ready.
class RestartBackoff {
 public:
  std::chrono::seconds next();
  void reset() { delay_ = std::chrono::seconds(0); }
  std::chrono::seconds current() const { return delay_; }

 private:
  std::chrono::seconds delay_{0};
};

class EngineInstance : public std::enable_shared_from_this<EngineInstance> {
 public:
  using OnChange = std::function<void(const EngineInstance&)>;

  EngineInstance(boost::asio::any_io_executor ex, EngineConfig config, OnChange on_change);
  ~EngineInstance();

  // Starts the process (Pending → Starting).
  void start();
  // Takes over a process an earlier duetd started (pid and /proc start time from the
  // checkpoint, already checked to match), probed again, not restarted. One that was Ready
  // when the checkpoint was written stays Ready until its readiness probe fails, so a duetd
  // restart takes no endpoint away from the routers; any other starts as Starting.
  void adopt(pid_t pid, uint64_t start_time, int restarts, bool was_ready);
  // Keeps the replica Pending with `reason` (no devices free, no port free).
  void hold(std::string reason) { set_state(EngineState::pending, std::move(reason)); }
  // The process ended with wait status `status` (reported by duetd's SIGCHLD handler).
  void on_exit(int status);
  // SIGTERM to the group, SIGKILL after the grace period; `done` runs once the process is gone
  // (none: the one drain() was given).
  void terminate(std::function<void()> done = {});
  // A planned stop's first step: Draining, so that routers send it nothing new, while the
  // process runs on for what is in flight; no probe, no restart. terminate() ends the drain;
  // `done` runs once the process is gone (also if it exits by itself meanwhile).
  void drain(std::function<void()> done);
  // May have requests on it: its process has been Ready in this run, or was adopted (routers
  // may have sent it requests before duetd restarted, a drain among them).
  bool serving() const { return served_ && pid_ != 0; }
  // Its process was started by an earlier duetd (adopt()).
  bool adopted() const { return adopted_ && pid_ != 0; }

  const EngineConfig& config() const { return config_; }
  const std::string& name() const { return config_.identity.name; }
  EngineState state() const { return state_; }
  // Why it is in its state (Pending's reason, "readiness probe failed"...); often empty.
  const std::string& message() const { return message_; }
  bool ready() const { return state_ == EngineState::ready; }
  // Draining or Terminating: on its way out, never restarted.
  bool leaving() const { return state_ == EngineState::draining || state_ == EngineState::terminating; }
  pid_t pid() const { return pid_; }
  uint64_t start_time() const { return start_time_; }
  int restarts() const { return restarts_; }
  const std::string& last_exit() const { return last_exit_; }
  api::EngineStatus status() const;

 private:
  void launch();
  // `ready`: the readiness probe starts from Ready (an adopted replica that was Ready).
  void start_probes(bool ready = false);
  void stop_probes();
  void set_state(EngineState state, std::string message = {});
  void on_readiness(bool ready);
  void on_liveness(bool alive);
  void handle_exit(const std::string& how);
  void schedule_restart(const std::string& reason);
  void kill_now();
  void kill_leftovers();
  void remove_cgroups();
  api::EngineUsage usage() const;

  boost::asio::any_io_executor executor_;
  EngineConfig config_;
  OnChange on_change_;
  EngineState state_ = EngineState::pending;
  std::string message_;
  std::string last_exit_;  // how the last process ended, like kubectl's "Last State"
  pid_t pid_ = 0;
  uint64_t start_time_ = 0;
  uint64_t oom_kills_at_start_ = 0;  // of the replica's memory cgroup, when it has a limit
  int restarts_ = 0;
  bool served_ = false;   // see serving()
  bool adopted_ = false;  // see adopted()
  RestartBackoff backoff_;
  std::chrono::steady_clock::time_point ready_since_{};
  boost::asio::steady_timer restart_timer_;
  boost::asio::steady_timer kill_timer_;
  std::shared_ptr<HttpProber> readiness_;
  std::shared_ptr<HttpProber> liveness_;
  std::shared_ptr<ExitWatch> exit_watch_;  // only for an adopted process (not our child)
  std::function<void()> on_terminated_;
};

}  // namespace duet::engine
