#include "engine/instance/engine_instance.h"

#include <signal.h>
#include <sys/wait.h>

#include "duet/common/log.h"
#include "engine/instance/process.h"
#include "engine/instance/replica_cgroup.h"
#include "engine/instance/resource_limits.h"

namespace duet::engine {

using namespace std::chrono;

namespace {
const Logger& engine_logger() {
  static const Logger log("engine");
  return log;
}

constexpr seconds kMaxBackoff{300};
constexpr minutes kBackoffResetAfterReady{10};

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "ended";
}
}  // namespace

seconds RestartBackoff::next() {
  delay_ = delay_.count() == 0 ? seconds(1) : std::min(delay_ * 2, kMaxBackoff);
  return delay_;
}

EngineInstance::EngineInstance(boost::asio::any_io_executor ex, EngineConfig config,
                               OnChange on_change)
    : executor_(ex),
      config_(std::move(config)),
      on_change_(std::move(on_change)),
      restart_timer_(ex),
      kill_timer_(ex) {}

EngineInstance::~EngineInstance() {
  stop_probes();
  if (exit_watch_) exit_watch_->stop();
}

void EngineInstance::start() { launch(); }

void EngineInstance::adopt(pid_t pid, uint64_t start_time, int restarts, bool was_ready) {
  pid_ = pid;
  start_time_ = start_time;
  restarts_ = restarts;
  served_ = true;
  adopted_ = true;
  exit_watch_ = std::make_shared<ExitWatch>(executor_, pid, start_time);
  exit_watch_->start([this] {
    handle_exit("exited while adopted (its exit status went to init, not to duetd)");
  });
  engine_logger().info("engine_adopted",
                       {{"engine", name()}, {"pid", pid_}, {"port", config_.port}});
  if (was_ready) ready_since_ = steady_clock::now();
  set_state(was_ready ? EngineState::ready : EngineState::starting, "adopted after a duetd restart");
  start_probes(was_ready);
}

void EngineInstance::launch() {
  served_ = false;  // a new process: nothing was routed to it yet
  adopted_ = false;
  try {
    pid_ = spawn_process(config_.launch);
  } catch (const std::exception& e) {
    engine_logger().error("engine_start_failed", {{"engine", name()}, {"error", e.what()}});
    return schedule_restart(std::string("start failed: ") + e.what());
  }
  start_time_ = process_start_time(pid_);
  if (config_.launch.limits.memory_bytes) oom_kills_at_start_ = oom_kills(config_.launch.limit_folders());
  engine_logger().info("engine_started", {{"engine", name()},
                                          {"pid", pid_},
                                          {"port", config_.port},
                                          {"command", config_.launch.argv[0]}});
  set_state(EngineState::starting);
  start_probes();
}

void EngineInstance::start_probes(bool ready) {
  Address target;
  target.host = config_.host;
  target.port = config_.port;
  if (!config_.readiness) {
    // No readiness probe: a running process is ready, as in Kubernetes.
    set_state(EngineState::ready);
    ready_since_ = steady_clock::now();
  } else {
    readiness_ = std::make_shared<HttpProber>(executor_, target, *config_.readiness, ready,
                                              [this](bool ok) { on_readiness(ok); });
    readiness_->start();
  }
  if (config_.liveness) {
    liveness_ = std::make_shared<HttpProber>(executor_, target, *config_.liveness, true,
                                             [this](bool ok) { on_liveness(ok); });
    liveness_->start();
  }
}

void EngineInstance::stop_probes() {
  if (readiness_) readiness_->stop();
  if (liveness_) liveness_->stop();
  readiness_.reset();
  liveness_.reset();
}

void EngineInstance::on_readiness(bool ready) {
  if (leaving()) return;
  if (ready && state_ != EngineState::ready) ready_since_ = steady_clock::now();
  set_state(ready ? EngineState::ready : EngineState::unready,
            ready ? "" : "readiness probe failed");
}

void EngineInstance::on_liveness(bool alive) {
  if (alive || leaving()) return;
  engine_logger().warn("engine_liveness_failed", {{"engine", name()}, {"pid", pid_}});
  // Kill it; on_exit() restarts it with backoff like any other exit.
  message_ = "liveness probe failed";
  kill_now();
}

// An OOM kill in the replica's cgroup since this run started names the limit, as kubectl's
// OOMKilled does: whichever process the kernel chose, the limit is why the engine ended.
void EngineInstance::on_exit(int status) {
  const auto& limits = config_.launch.limits;
  if (limits.memory_bytes && oom_kills(config_.launch.limit_folders()) > oom_kills_at_start_)
    return handle_exit("OOMKilled (memory limit " + std::to_string(*limits.memory_bytes) + " bytes), " +
                       describe_exit(status));
  handle_exit(describe_exit(status));
}

void EngineInstance::handle_exit(const std::string& how) {
  last_exit_ = how;
  pid_ = 0;
  stop_probes();
  if (exit_watch_) exit_watch_->stop();
  exit_watch_.reset();
  kill_leftovers();
  if (leaving()) {
    kill_timer_.cancel();
    engine_logger().info("engine_stopped", {{"engine", name()}, {"status", how}});
    remove_cgroups();
    if (auto done = std::move(on_terminated_)) done();
    return;
  }
  engine_logger().warn("engine_exited", {{"engine", name()}, {"status", how}});
  if (ready_since_ != steady_clock::time_point{} &&
      steady_clock::now() - ready_since_ >= kBackoffResetAfterReady)
    backoff_.reset();
  ready_since_ = {};
  schedule_restart(message_.empty() ? how : message_ + "; " + how);
}

void EngineInstance::schedule_restart(const std::string& reason) {
  auto delay = backoff_.next();
  set_state(EngineState::pending,
            "CrashLoopBackOff: " + reason + "; restarting in " + std::to_string(delay.count()) + "s");
  restart_timer_.expires_after(delay);
  restart_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->leaving()) return;
    ++self->restarts_;
    self->message_.clear();
    self->launch();
  });
}

void EngineInstance::drain(std::function<void()> done) {
  restart_timer_.cancel();
  stop_probes();
  on_terminated_ = std::move(done);
  set_state(EngineState::draining);
}

void EngineInstance::terminate(std::function<void()> done) {
  restart_timer_.cancel();
  stop_probes();
  if (done) on_terminated_ = std::move(done);
  set_state(EngineState::terminating);
  if (pid_ == 0) {  // between runs (a restart's backoff), or gone while draining
    remove_cgroups();
    if (auto gone = std::move(on_terminated_)) gone();
    return;
  }
  signal_group(pid_, SIGTERM);
  kill_timer_.expires_after(config_.grace);
  kill_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->pid_ == 0) return;
    engine_logger().warn("engine_grace_expired", {{"engine", self->name()}, {"pid", self->pid_}});
    self->kill_now();
  });
}

void EngineInstance::kill_now() { signal_group(pid_, SIGKILL); }

// The replica is leaving for good: its cgroup and its limit folders go once empty.
void EngineInstance::remove_cgroups() {
  if (!config_.launch.cgroup.empty()) remove_cgroup_soon(executor_, config_.launch.cgroup);
  for (const auto& [controller, folder] : config_.launch.limit_cgroups_v1) remove_cgroup_soon(executor_, folder);
}

// The main process is gone; what it forked must not outlive it: a worker holding a GPU and
// a port would make every restart fail, and stay after a delete.
void EngineInstance::kill_leftovers() {
  if (config_.launch.cgroup.empty()) return;
  if (auto killed = kill_cgroup(config_.launch.cgroup))
    engine_logger().warn(
        "engine_leftovers_killed",
        {{"engine", name()}, {"processes", killed}, {"cgroup", config_.launch.cgroup}});
}

void EngineInstance::set_state(EngineState state, std::string message) {
  if (state == state_ && message == message_) return;
  served_ = served_ || state == EngineState::ready;
  state_ = state;
  message_ = std::move(message);
  on_change_(*this);
}

api::EngineStatus EngineInstance::status() const {
  const auto& id = config_.identity;
  api::EngineStatus s;
  s.name = id.name;
  s.deployment = id.deployment;
  s.replica = id.replica;
  s.version = id.version;
  s.track = id.track;
  s.state = state_;
  s.ready = ready();
  s.endpoint = config_.host + ":" + std::to_string(config_.port);
  s.port = config_.port;
  s.pid = pid_;
  s.start_time = start_time_;
  s.restarts = restarts_;
  s.last_exit = last_exit_;
  s.devices = config_.devices;
  s.message = message_;
  s.cgroup = config_.launch.cgroup;
  s.usage = usage();
  return s;
}

// memoryBytes and cpuSeconds of the replica's cgroup, as far as the kernel counts them.
api::EngineUsage EngineInstance::usage() const {
  if (config_.launch.cgroup.empty()) return {};
  auto u = cgroup_usage(config_.launch.cgroup);
  return {u.memory_bytes, u.cpu_seconds};
}

}  // namespace duet::engine
