// The rollout state machine in-process (issue 17): each transition of SPEC §6 driven by
// hand-made replica censuses, traffic reports and a hand-moved clock, without a process.
#include "daemon/rollout/rollout_controller.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "daemon/manifest/parser.h"
#include "duet/common/http_error.h"

namespace duet::daemon {
namespace {

using manifest::EngineDeployment;
using Phase = api::RolloutPhase;

EngineDeployment deployment(const std::string& version, const std::string& strategy) {
  auto text = "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: chat}\n"
              "spec:\n  runtimeClassName: cpu\n  replicas: 2\n  version: " +
              version + "\n  template: {command: [sim]}\n  strategy:\n" + strategy;
  return std::get<EngineDeployment>(manifest::parse_manifests(text, "t.yaml").at(0).object);
}

// Every replica of each track Ready on its revision.
ReplicaCensus settled(int stable, int canary) {
  ReplicaCensus c;
  c.stable = c.stable_ready = stable;
  c.canary = c.canary_ready = c.canary_present = canary;
  return c;
}

struct RolloutFixture : ::testing::Test {
  boost::asio::io_context io;  // never run: the tick only asks for passes
  EventLog events;
  std::chrono::system_clock::time_point wall{std::chrono::hours(490'000)};
  std::chrono::steady_clock::time_point steady{std::chrono::hours(1)};
  int due = 0;
  RolloutController rollouts{io, events, [](const EngineDeployment& d) { return d.version; },
                             [this] { ++due; },
                             RolloutClock{[this] { return wall; }, [this] { return steady; }}};

  // One reconcile pass over `d` with the replicas as `census` says.
  ReplicaPlan pass(const EngineDeployment& d, const ReplicaCensus& census) {
    last_target = rollouts.target(d);
    return rollouts.plan(d, census);
  }
  api::RolloutStatus status(const EngineDeployment& d) const { return rollouts.status(d).value(); }
  std::vector<std::string> reasons() const {
    std::vector<std::string> out;
    for (const auto& e : events.list("chat")) out.push_back(e["reason"]);
    return out;
  }
  void report(int requests, int errors) {
    api::TrafficItem item{"chat", api::Track::canary, "v2", {}};
    item.counts.requests = static_cast<uint64_t>(requests);
    item.counts.errors["status5xx"] = static_cast<uint64_t>(errors);
    rollouts.add_traffic({item});
  }

  RolloutTarget last_target;
};

constexpr const char* kSteps =
    "    canary:\n      steps:\n      - setWeight: 20\n      - pause: {duration: 30s}\n      - setWeight: 50\n";

TEST_F(RolloutFixture, StepsPauseOnTheClockThenPromoteReplicaByReplica) {
  auto v1 = deployment("v1", kSteps);
  auto v2 = deployment("v2", kSteps);
  pass(v1, settled(2, 0));
  EXPECT_EQ(status(v1).phase, Phase::healthy);

  auto plan = pass(v2, settled(2, 0));
  ASSERT_NE(last_target.canary, nullptr);
  EXPECT_EQ(last_target.canary_revision, "v2");
  EXPECT_EQ(plan.stable, 2);
  EXPECT_EQ(plan.canary, 1);
  EXPECT_EQ(status(v2).weight, 0);  // not before the canary is Ready
  EXPECT_EQ(status(v2).message, "waiting for canary replicas: 0/1 Ready");

  pass(v2, settled(2, 1));
  EXPECT_EQ(status(v2).weight, 20);
  EXPECT_EQ(status(v2).phase, Phase::paused);
  ASSERT_TRUE(status(v2).pause);
  EXPECT_EQ(status(v2).pause->duration_seconds, 30);

  wall += std::chrono::seconds(29);
  pass(v2, settled(2, 1));
  EXPECT_EQ(status(v2).weight, 20);
  wall += std::chrono::seconds(2);
  pass(v2, settled(2, 1));
  EXPECT_TRUE(status(v2).promoting);
  EXPECT_EQ(status(v2).weight, 50);  // the canary keeps its share while stable is replaced

  ReplicaCensus replacing = settled(2, 1);
  replacing.stable_ready = 0;
  replacing.stable_outdated = 2;
  plan = pass(v2, replacing);
  EXPECT_EQ(plan.stable, 2);
  EXPECT_TRUE(plan.one_at_a_time);
  EXPECT_EQ(last_target.stable->version, "v2");

  plan = pass(v2, settled(2, 1));  // stable runs v2 everywhere: the canary retires
  EXPECT_EQ(plan.canary, 0);
  EXPECT_EQ(status(v2).weight, 0);
  pass(v2, settled(2, 0));
  EXPECT_EQ(status(v2).phase, Phase::healthy);
  EXPECT_TRUE(status(v2).canary_version.empty());
  EXPECT_EQ(reasons(), (std::vector<std::string>{"RolloutStarted", "WeightChanged", "Paused",
                                                 "WeightChanged", "Promoted", "RolloutCompleted"}));
}

TEST_F(RolloutFixture, FailedAnalysisDegradesAndRetryStartsOver) {
  const char* strategy =
      "    canary:\n      steps: [{setWeight: 50}, {pause: {}}]\n"
      "      analysis: {interval: 10s, failureLimit: 1, minRequests: 10, minSuccessRate: 0.9}\n";
  auto v1 = deployment("v1", strategy);
  auto v2 = deployment("v2", strategy);
  pass(v1, settled(2, 0));
  pass(v2, settled(2, 0));
  report(100, 100);         // before the canary is Ready: not its interval
  pass(v2, settled(2, 1));  // the first interval starts; counts from before it are dropped
  EXPECT_EQ(status(v2).phase, Phase::paused);
  EXPECT_EQ(status(v2).weight, 50);

  steady += std::chrono::seconds(10);
  report(40, 20);
  pass(v2, settled(2, 1));
  EXPECT_EQ(status(v2).phase, Phase::degraded);
  EXPECT_EQ(status(v2).weight, 0);
  ASSERT_TRUE(status(v2).analysis && status(v2).analysis->last);
  EXPECT_EQ(status(v2).analysis->last->verdict, api::Verdict::failed);
  EXPECT_EQ(status(v2).analysis->last->requests, 40u);
  auto plan = pass(v2, settled(2, 1));
  EXPECT_EQ(last_target.canary, nullptr);  // stopped: no canary replicas
  EXPECT_EQ(plan.canary, 0);

  try {
    rollouts.promote(v2);
    ADD_FAILURE() << "a degraded rollout was promoted";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status(), 409);
  }
  rollouts.retry(v2);
  pass(v2, settled(2, 0));
  EXPECT_NE(last_target.canary, nullptr);
  EXPECT_EQ(status(v2).phase, Phase::progressing);
  EXPECT_EQ(status(v2).analysis->failures, 0);
}

TEST_F(RolloutFixture, AnEndlessPauseWaitsForPromoteAndAbortTakesTrafficBack) {
  const char* strategy = "    canary:\n      steps: [{setWeight: 10}, {pause: {}}]\n";
  auto v1 = deployment("v1", strategy);
  auto v2 = deployment("v2", strategy);
  pass(v1, settled(2, 0));
  pass(v2, settled(2, 0));
  pass(v2, settled(2, 1));
  wall += std::chrono::hours(24 * 365);
  pass(v2, settled(2, 1));
  EXPECT_EQ(status(v2).phase, Phase::paused);
  EXPECT_FALSE(status(v2).pause->duration_seconds);

  rollouts.abort(v2);
  EXPECT_EQ(status(v2).phase, Phase::aborted);
  EXPECT_EQ(status(v2).weight, 0);
  EXPECT_THROW(rollouts.abort(v2), HttpError);
  rollouts.retry(v2);
  pass(v2, settled(2, 1));
  pass(v2, settled(2, 1));
  rollouts.promote(v2);
  EXPECT_TRUE(status(v2).promoting);
  EXPECT_THROW(rollouts.promote(v2), HttpError);  // already being promoted
}

// Back to the stable spec while a canary runs: the rollout is cancelled, not promoted.
TEST_F(RolloutFixture, GoingBackToTheStableSpecCancelsTheRollout) {
  auto v1 = deployment("v1", kSteps);
  auto v2 = deployment("v2", kSteps);
  pass(v1, settled(2, 0));
  pass(v2, settled(2, 1));
  auto plan = pass(v1, settled(2, 1));
  EXPECT_EQ(last_target.canary, nullptr);
  EXPECT_EQ(plan.canary, 0);
  EXPECT_EQ(reasons().back(), "RolloutCancelled");
}

struct CapacityCase {
  const char* capacity;
  int canaries_present;
  int stable_during_rollout;
};

class RolloutCapacity : public RolloutFixture, public ::testing::WithParamInterface<CapacityCase> {};

// surge adds canaries on top; replace frees a stable replica's devices for each canary.
TEST_P(RolloutCapacity, DecidesHowManyStableReplicasStay) {
  auto strategy = std::string("    canary:\n      replicas: 1\n      capacity: ") + GetParam().capacity +
                  "\n      steps: [{pause: {}}]\n";
  auto v1 = deployment("v1", strategy);
  auto v2 = deployment("v2", strategy);
  pass(v1, settled(2, 0));
  auto plan = pass(v2, settled(2, GetParam().canaries_present));
  EXPECT_EQ(plan.stable, GetParam().stable_during_rollout);
  EXPECT_EQ(plan.canary, 1);
}

INSTANTIATE_TEST_SUITE_P(Plans, RolloutCapacity,
                         ::testing::Values(CapacityCase{"surge", 0, 2}, CapacityCase{"surge", 1, 2},
                                           CapacityCase{"replace", 0, 1}, CapacityCase{"replace", 1, 1}));

}  // namespace
}  // namespace duet::daemon
