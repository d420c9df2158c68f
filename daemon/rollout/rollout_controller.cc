#include "daemon/rollout/rollout_controller.h"

#include <algorithm>

#include "daemon/daemon_logger.h"
#include "daemon/rollout/elapsed.h"
#include "duet/common/http_error.h"

namespace duet::daemon {

using manifest::EngineDeployment;
using nlohmann::json;

namespace {

// Pauses end and analysis intervals close on this tick; routers report once a second.
constexpr std::chrono::milliseconds kTick{200};

bool is_canary(const EngineDeployment& d) { return d.strategy.type == api::StrategyType::canary; }

// The phase of a deployment without a rollout: Healthy once every replica is Ready on the
// stable revision.
api::RolloutPhase phase_without_rollout(const ReplicaCensus& census, int replicas) {
  return census.stable_ready >= replicas && census.stable_outdated == 0 ? api::RolloutPhase::healthy
                                                                       : api::RolloutPhase::progressing;
}

std::string object_of(const EngineDeployment& d) { return "deployment/" + d.metadata.name; }

std::string step_text(const manifest::CanaryStep& step) {
  if (step.set_weight) return "setWeight " + std::to_string(*step.set_weight);
  if (step.pause_seconds && *step.pause_seconds >= 0)
    return "pause " + std::to_string(*step.pause_seconds) + "s";
  return "pause until promoted";
}

std::string step_of(const RolloutState& s, const EngineDeployment& d) {
  return "step " + std::to_string(std::min(s.step + 1, d.strategy.steps.size())) + "/" +
         std::to_string(d.strategy.steps.size());
}

}  // namespace

RolloutController::RolloutController(
    boost::asio::io_context& io, EventLog& events,
    std::function<std::string(const EngineDeployment&)> revision_of, std::function<void()> on_due,
    RolloutClock clock)
    : events_(events),
      revision_of_(std::move(revision_of)),
      on_due_(std::move(on_due)),
      clock_(std::move(clock)),
      tick_(io) {
  schedule_tick();
}

void RolloutController::schedule_tick() {
  tick_.expires_after(kTick);
  tick_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    for (const auto& [name, s] : states_)
      if (s.in_progress()) {
        on_due_();
        break;
      }
    schedule_tick();
  });
}

RolloutState& RolloutController::state_of(const EngineDeployment& current) {
  auto [it, created] = states_.try_emplace(current.metadata.name);
  if (created) it->second.stable = current;
  return it->second;
}

RolloutTarget RolloutController::target(const EngineDeployment& current) {
  auto& s = state_of(current);
  if (!is_canary(current)) {
    if (!s.canary_revision.empty()) clear(s);
    s.stable = current;
    return {&s.stable, revision_of_(s.stable), nullptr, {}};
  }
  auto revision = revision_of_(current);
  auto stable_revision = revision_of_(s.stable);
  if (revision == stable_revision) {
    if (s.promoting) return {&s.stable, stable_revision, &current, revision};
    if (!s.canary_revision.empty()) {
      events_.normal(current.metadata.name, object_of(current), "RolloutCancelled",
                     "spec is back at stable version " + current.version + "; canary stopped");
      clear(s);
    }
    s.stable = current;  // same revision: only replicas or strategy changed
    return {&s.stable, stable_revision, nullptr, {}};
  }
  if (revision != s.canary_revision) start(s, current, revision);
  if (s.stopped()) return {&s.stable, stable_revision, nullptr, {}};
  return {&s.stable, stable_revision, &current, revision};
}

void RolloutController::start(RolloutState& s, const EngineDeployment& current,
                              const std::string& revision) {
  bool replacing = !s.canary_revision.empty() && !s.promoting;
  const auto& canary = current.strategy;
  std::string how = std::to_string(canary.canary_replicas) + " canary replica(s), capacity " +
                    std::string(api::to_string(canary.capacity));
  if (canary.capacity == api::Capacity::replace)
    how += ": stopping " + std::to_string(std::min(canary.canary_replicas, current.replicas)) +
           " stable replica(s) first to free their devices";
  events_.normal(current.metadata.name, object_of(current),
                 replacing ? "RolloutReplaced" : "RolloutStarted",
                 (replacing ? "new version " : "rolling out version ") + current.version +
                     " over " + s.stable.version + ": " + how);
  rollout_logger().info("rollout_started", {{"deployment", current.metadata.name},
                                            {"version", current.version},
                                            {"stable", s.stable.version},
                                            {"capacity", api::to_string(canary.capacity)}});
  clear(s);
  s.canary_revision = revision;
  s.canary_version = current.version;
  s.phase = api::RolloutPhase::progressing;
  s.message = "starting " + std::to_string(canary.canary_replicas) + " canary replica(s)";
}

void RolloutController::clear(RolloutState& s) {
  s.canary_revision.clear();
  s.canary_version.clear();
  s.phase = api::RolloutPhase::progressing;
  s.promoting = false;
  s.step = 0;
  s.weight = 0;
  s.pause_started.reset();
  s.failures = 0;
  s.last_analysis.reset();
  s.interval_started.reset();
  s.message.clear();
  traffic_.forget(s.stable.metadata.name);
}

ReplicaPlan RolloutController::plan(const EngineDeployment& current, const ReplicaCensus& census) {
  auto& s = state_of(current);
  s.census = census;
  int replicas = current.replicas;
  if (!is_canary(current)) {
    s.phase = phase_without_rollout(census, replicas);
    return {replicas, 0, false};
  }
  bool promoting_before = s.promoting;
  if (s.in_progress() && !s.promoting) advance(s, current);
  // A promotion begun in this pass: the census counted against the old stable revision, so
  // it would call the stable replicas done and retire the canary at once. The replicas stay
  // as they are until the next pass (begin_promotion asked for it) counts them afresh.
  if (s.promoting && promoting_before) return plan_promotion(s, current);
  bool replace = current.strategy.capacity == api::Capacity::replace;
  if (s.in_progress()) {
    int canaries = current.strategy.canary_replicas;
    int held = replace ? std::max(canaries, census.canary_present) : 0;
    return {std::max(0, replicas - held), canaries, true};
  }
  // No rollout, or one that was stopped: stable takes back the devices canaries free.
  if (s.canary_revision.empty()) s.phase = phase_without_rollout(census, replicas);
  return {std::max(0, replicas - (replace ? census.canary_present : 0)), 0, true};
}

void RolloutController::advance(RolloutState& s, const EngineDeployment& current) {
  const auto& strategy = current.strategy;
  int wanted = strategy.canary_replicas;
  // The steps start once every canary replica is Ready. Later a replica that is not Ready
  // (restarting, or adopted and not probed yet) does not hold them: routers skip it.
  bool started = s.step > 0 || s.pause_started;
  if (!started && s.census.canary_ready < wanted) {
    s.phase = api::RolloutPhase::progressing;
    s.message = "waiting for canary replicas: " + std::to_string(s.census.canary_ready) + "/" +
                std::to_string(wanted) + " Ready";
    return;
  }
  if (strategy.analysis && !analyse_interval(s, current)) return;
  const auto& steps = strategy.steps;
  while (s.step < steps.size()) {
    const auto& step = steps[s.step];
    if (step.set_weight) {
      if (s.weight != *step.set_weight)
        events_.normal(current.metadata.name, object_of(current), "WeightChanged",
                       step_of(s, current) + ": canary " + current.version + " gets " +
                           std::to_string(*step.set_weight) + "% of requests");
      s.weight = *step.set_weight;
      ++s.step;
      continue;
    }
    auto now = clock_.wall();
    if (!s.pause_started) {
      s.pause_started = now;
      events_.normal(current.metadata.name, object_of(current), "Paused",
                     step_of(s, current) + ": " + step_text(step));
    }
    auto seconds = step.pause_seconds.value_or(-1);
    if (seconds < 0 || !has_elapsed(now - *s.pause_started, seconds)) {
      s.phase = api::RolloutPhase::paused;
      s.message = step_of(s, current) + ": " + step_text(step) +
                  (seconds < 0 ? " (duetctl rollout promote " + current.metadata.name + ")" : "");
      return;
    }
    s.pause_started.reset();
    ++s.step;
  }
  begin_promotion(s, current, "all " + std::to_string(steps.size()) + " steps done");
}

bool RolloutController::analyse_interval(RolloutState& s, const EngineDeployment& current) {
  const auto& rules = *current.strategy.analysis;
  auto now = clock_.steady();
  if (!s.interval_started) {
    traffic_.take(current.metadata.name, s.canary_version);  // counts from before are not the canary's
    s.interval_started = now;
    return true;
  }
  if (!has_elapsed(now - *s.interval_started, rules.interval_seconds)) return true;
  s.interval_started = now;
  auto result = analyse(traffic_.take(current.metadata.name, s.canary_version), rules);
  s.last_analysis = result;
  if (result.verdict != api::Verdict::failed) return true;
  ++s.failures;
  auto figures = result.reason + " (" + std::to_string(result.requests) + " requests in " +
                 std::to_string(rules.interval_seconds) + "s)";
  events_.warning(current.metadata.name, object_of(current), "AnalysisFailed",
                  "interval " + std::to_string(s.failures) + "/" +
                      std::to_string(rules.failure_limit) + " failed: " + figures);
  if (s.failures < rules.failure_limit) return true;
  stop(s, current, api::RolloutPhase::degraded,
       "analysis failed " + std::to_string(s.failures) + " time(s), last: " + figures);
  return false;
}

void RolloutController::begin_promotion(RolloutState& s, const EngineDeployment& current,
                                        const std::string& why) {
  events_.normal(current.metadata.name, object_of(current), "Promoted",
                 why + ": version " + current.version + " becomes stable, replacing " +
                     s.stable.version + " replica by replica");
  rollout_logger().info("rollout_promoted",
                        {{"deployment", current.metadata.name}, {"version", current.version}});
  s.stable = current;
  s.promoting = true;
  s.pause_started.reset();
  s.phase = api::RolloutPhase::progressing;
  s.message = "promoting: replacing stable replicas with version " + current.version;
  on_due_();  // this pass already placed replicas for the old stable spec
}

ReplicaPlan RolloutController::plan_promotion(RolloutState& s, const EngineDeployment& current) {
  const auto& census = s.census;
  bool replace = current.strategy.capacity == api::Capacity::replace;
  int stable = current.replicas - (replace ? census.canary_present : 0);
  bool stable_done = census.stable_outdated == 0 && census.stable == stable &&
                     census.stable_ready == stable && census.terminating == 0;
  int canary = census.canary;
  if (stable_done) {
    // The new revision serves from stable replicas: no more canary share; retire the
    // canaries, one by one with `replace` so their devices go to the stable replicas.
    s.weight = 0;
    canary = replace ? std::max(0, census.canary - 1) : 0;
  }
  if (stable_done && census.canary_present == 0) {
    events_.normal(current.metadata.name, object_of(current), "RolloutCompleted",
                   "version " + current.version + " serves on " + std::to_string(stable) +
                       " stable replica(s)");
    rollout_logger().info("rollout_completed",
                          {{"deployment", current.metadata.name}, {"version", current.version}});
    clear(s);
    s.phase = api::RolloutPhase::healthy;
  }
  return {stable, canary, true};
}

void RolloutController::stop(RolloutState& s, const EngineDeployment& current, api::RolloutPhase phase,
                             const std::string& reason) {
  s.phase = phase;
  s.weight = 0;
  s.pause_started.reset();
  s.interval_started.reset();
  s.message = reason;
  events_.warning(current.metadata.name, object_of(current), "RolloutAborted",
                  "version " + s.canary_version + ": " + reason + "; traffic back to " +
                      s.stable.version + ", canary replicas stopped");
  rollout_logger().warn("rollout_aborted", {{"deployment", current.metadata.name},
                                            {"version", s.canary_version},
                                            {"phase", api::to_string(phase)},
                                            {"reason", reason}});
}

const RolloutState& RolloutController::existing(const EngineDeployment& current,
                                                const char* action) const {
  auto it = states_.find(current.metadata.name);
  if (it == states_.end() || it->second.canary_revision.empty())
    throw HttpError(409, "deployment \"" + current.metadata.name + "\" has no rollout to " + action);
  return it->second;
}

void RolloutController::promote(const EngineDeployment& current) {
  const auto& s = existing(current, "promote");
  if (s.promoting) throw HttpError(409, "deployment \"" + current.metadata.name + "\" is already being promoted");
  if (s.stopped())
    throw HttpError(409, "the rollout of \"" + current.metadata.name + "\" was aborted (" + s.message +
                             "); retry it first");
  begin_promotion(states_.at(current.metadata.name), current, "promoted by request");
  on_due_();
}

void RolloutController::abort(const EngineDeployment& current) {
  const auto& s = existing(current, "abort");
  if (s.promoting)
    throw HttpError(409, "deployment \"" + current.metadata.name + "\" is being promoted; it cannot be aborted");
  if (s.stopped()) throw HttpError(409, "the rollout of \"" + current.metadata.name + "\" is already aborted");
  stop(states_.at(current.metadata.name), current, api::RolloutPhase::aborted, "aborted by request");
  on_due_();
}

void RolloutController::retry(const EngineDeployment& current) {
  const auto& s = existing(current, "retry");
  if (!s.stopped())
    throw HttpError(409, "the rollout of \"" + current.metadata.name + "\" is " + std::string(api::to_string(s.phase)) +
                             "; only an aborted rollout can be retried");
  auto& state = states_.at(current.metadata.name);
  auto revision = state.canary_revision;
  clear(state);
  state.canary_revision = revision;
  state.canary_version = current.version;
  state.message = "retrying from step 1";
  events_.normal(current.metadata.name, object_of(current), "RolloutRetried",
                 "version " + current.version + " from step 1");
  on_due_();
}

void RolloutController::add_traffic(const std::vector<TrafficSample>& samples) {
  for (const auto& sample : samples) {
    auto it = states_.find(sample.deployment);
    if (it != states_.end() && it->second.in_progress()) traffic_.add(sample);
  }
}

void RolloutController::retain(const std::set<std::string>& deployments) {
  for (auto it = states_.begin(); it != states_.end();) {
    if (deployments.count(it->first)) {
      ++it;
      continue;
    }
    traffic_.forget(it->first);
    it = states_.erase(it);
  }
}

std::optional<api::RolloutStatus> RolloutController::status(const EngineDeployment& current) const {
  auto it = states_.find(current.metadata.name);
  if (it == states_.end()) return std::nullopt;
  return it->second.status(current);
}

int RolloutController::weight(const std::string& deployment) const {
  auto it = states_.find(deployment);
  return it == states_.end() ? 0 : it->second.weight;
}

std::map<std::string, api::RolloutPhase> RolloutController::phases() const {
  std::map<std::string, api::RolloutPhase> out;
  for (const auto& [name, s] : states_) out[name] = s.phase;
  return out;
}

json RolloutController::checkpoint_json() const {
  // Without a rollout the stable spec is the stored one: nothing to keep that the objects
  // do not already say.
  json out = json::object();
  for (const auto& [name, s] : states_)
    if (!s.canary_revision.empty()) out[name] = s.checkpoint_json();
  return out;
}

std::vector<std::string> RolloutController::restore(const json& checkpoint) {
  std::vector<std::string> problems;
  if (!checkpoint.is_object()) return problems;
  for (const auto& [name, record] : checkpoint.items()) {
    try {
      states_[name] = RolloutState::from_checkpoint(record);
    } catch (const std::exception& e) {
      problems.push_back("rollout of " + name + ": " + e.what());
    }
  }
  return problems;
}

}  // namespace duet::daemon
