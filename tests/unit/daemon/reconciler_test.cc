// The reconcile loop in-process: real child processes (sleep) supervised on the test's own
// io_context, with a hand-set plan and a fake device pool in place of the rollout controller
// and the device manager. The end-to-end paths stay in tests/integration.
#include "daemon/reconciler.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/asio/signal_set.hpp>
#include <algorithm>
#include <csignal>
#include <chrono>
#include <functional>
#include <map>

#include "daemon/replica_revision.h"
#include "tests/support/temp_dir.h"

namespace duet::daemon {
namespace {

using namespace std::chrono_literals;

// One deployment of `replicas` sleeping engines on the cpu handler; `devices` per replica.
std::string manifests(int replicas, const std::string& env = "a", int devices = 0, int grace = 30) {
  return "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: cpu}\nhandler: cpu\n---\n"
         "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: small}\n"
         "spec: {runtimeClassName: cpu, replicas: " + std::to_string(replicas) +
         ", resources: {devices: " + std::to_string(devices) + "}" +
         ", template: {command: [sleep, '600'], env: {MARK: " + env + "}" +
         ", terminationGracePeriodSeconds: " + std::to_string(grace) + "}}\n";
}

// Every replica of the current spec on the stable track, as many as the spec says; records
// what the reconciler saw in each pass.
class FixedPlanner : public ReplicaPlanner {
 public:
  explicit FixedPlanner(const Store& store) : store_(store) {}
  RolloutTarget target(const manifest::EngineDeployment& current) override {
    return {&current, replica_revision(current, handler_of(store_, current)), nullptr, {}};
  }
  ReplicaPlan plan(const manifest::EngineDeployment& current, const ReplicaCensus& census) override {
    censuses.push_back(census);
    return {current.replicas, 0, one_at_a_time};
  }
  void retain(const std::set<std::string>& deployments) override { retained = deployments; }

  bool one_at_a_time = false;
  std::vector<ReplicaCensus> censuses;
  std::set<std::string> retained;

 private:
  const Store& store_;
};

// `free` devices named d0, d1...; hands out the lowest free ones.
class FakeDevicePool : public DevicePool {
 public:
  deviceplugin::AllocateResult allocate(const std::string& handler, std::size_t count,
                                        const std::string& engine) override {
    deviceplugin::Allocation a;
    for (int i = 0; i < free && a.device_ids.size() < count; ++i) {
      auto id = "d" + std::to_string(i);
      if (!holders.count(id)) a.device_ids.push_back(id);
    }
    if (a.device_ids.size() < count)
      return deviceplugin::AllocateResult::fail("insufficient " + handler + " devices: need " +
                                                std::to_string(count));
    for (const auto& id : a.device_ids) holders[id] = engine;
    return deviceplugin::AllocateResult::ok(std::move(a));
  }
  bool hold(const std::string&, const std::vector<std::string>& ids, const std::string& engine) override {
    for (const auto& id : ids) holders[id] = engine;
    return true;
  }
  void release(const std::string& engine) override {
    std::erase_if(holders, [&](const auto& h) { return h.second == engine; });
  }

  int free = 0;
  std::map<std::string, std::string> holders;  // device → engine
};

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() {
    store_.on_change([this] { reconciler_.trigger(); });
    reap();
  }
  ~ReconcilerTest() override {
    store_.remove("EngineDeployment", "small");
    run_until([this] { return reconciler_.engines().empty(); });
  }

  void apply(const std::string& text) {
    store_.apply(manifest::parse_manifests(text, "t.yaml"), "t.yaml");
  }
  void reap() {
    sigchld_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      int status;
      pid_t pid;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) reconciler_.on_child_exit(pid, status);
      reap();
    });
  }
  // Runs the loop until `done` or 10 s.
  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(10ms);
    return done();
  }
  std::map<std::string, api::EngineStatus> engines() const {
    std::map<std::string, api::EngineStatus> out;
    for (auto& e : reconciler_.engines()) out[e.name] = e;
    return out;
  }
  // Every replica of the spec Ready, running `mark`, and nothing else left.
  bool settled_on(int replicas, const std::string& mark) {
    auto all = engines();
    if (static_cast<int>(all.size()) != replicas) return false;
    for (const auto& [name, e] : all)
      if (!e.ready || e.pid == 0) return false;
    auto count = reconciler_.count_replicas("small");
    return count.ready == replicas && marks() == std::vector<std::string>(replicas, mark);
  }
  // The MARK env each running replica was started with, in name order.
  std::vector<std::string> marks() const {
    std::vector<std::string> out;
    for (const auto& record : reconciler_.checkpoint_json())
      out.push_back(record["config"]["launch"]["env"].value("MARK", ""));
    return out;
  }

  test::TempDir dir_;
  boost::asio::io_context io_;
  boost::asio::signal_set sigchld_{io_, SIGCHLD};
  WatchHub hub_{io_};
  Store store_{hub_};
  EventLog events_;
  PortAllocator ports_{PortAllocator::parse("42000-42100")};
  FakeDevicePool devices_;
  FixedPlanner planner_{store_};
  DrainTracker drains_;
  Reconciler reconciler_{io_, store_, hub_, ports_, devices_, planner_, events_, drains_,
                         {.log_dir = dir_.path().string()}};

  // A router's traffic report: its table built from the stream as it is now.
  void router_reports(std::map<std::string, uint64_t> in_flight) {
    drains_.report("router-a", hub_.resource_version(), std::move(in_flight), DrainTracker::Clock::now());
  }
  // The reasons of the events of replica `name`.
  std::vector<std::string> reasons(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& e : events_.list("small"))
      if (e["object"] == name) out.push_back(e["reason"]);
    return out;
  }
};

TEST_F(ReconcilerTest, StartsTheReplicasASpecAsksForEachOnItsOwnPort) {
  apply(manifests(3));
  ASSERT_TRUE(run_until([&] { return settled_on(3, "a"); }));
  auto all = engines();
  std::set<uint16_t> ports;
  for (const auto& name : {"small-0", "small-1", "small-2"}) {
    ASSERT_TRUE(all.count(name)) << name;
    ports.insert(all[name].port);
    EXPECT_EQ(all[name].state, api::EngineState::ready);
  }
  EXPECT_EQ(ports.size(), 3u);
  EXPECT_EQ(planner_.retained, std::set<std::string>{"small"});
}

TEST_F(ReconcilerTest, ScalingDownStopsTheHighestReplicasAndFreesTheirPorts) {
  apply(manifests(3));
  ASSERT_TRUE(run_until([&] { return settled_on(3, "a"); }));
  auto kept = engines().at("small-0");
  apply(manifests(1));
  ASSERT_TRUE(run_until([&] { return engines().size() == 1; }));
  EXPECT_EQ(engines().at("small-0").pid, kept.pid);  // untouched
  // The two ports are free again: a scale back up gets replicas without exhausting the range.
  apply(manifests(3));
  EXPECT_TRUE(run_until([&] { return settled_on(3, "a"); }));
}

// A replica scaled away is Draining while a router has a request on it: its process runs
// on, describe counts the request; once the router has nothing on it in two reports from
// its new table, it stops.
TEST_F(ReconcilerTest, AReplicaScaledAwayDrainsUntilNoRouterHasARequestOnIt) {
  apply(manifests(2));
  ASSERT_TRUE(run_until([&] { return settled_on(2, "a"); }));
  router_reports({{"small-1", 1}});  // from the table of before: small-1 still routable
  apply(manifests(1));
  ASSERT_TRUE(run_until([&] { return engines().at("small-1").state == api::EngineState::draining; }));
  auto pid = engines().at("small-1").pid;
  router_reports({{"small-1", 2}});  // the new table: two requests still on it
  router_reports({{"small-1", 1}});
  io_.run_for(300ms);
  ASSERT_EQ(engines().count("small-1"), 1u);
  EXPECT_EQ(engines().at("small-1").pid, pid);
  EXPECT_EQ(engines().at("small-1").message.rfind("1 in flight, ", 0), 0u) << engines().at("small-1").message;
  EXPECT_EQ(reconciler_.count_replicas("small").replicas, 1);  // it is not counted as a replica
  router_reports({});
  ASSERT_TRUE(run_until([&] { return engines().size() == 1; }));
  auto seen = reasons("small-1");
  EXPECT_NE(std::find(seen.begin(), seen.end(), "Draining"), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), "Drained"), seen.end());
  EXPECT_EQ(::kill(pid, 0), -1);  // stopped (and reaped)
}

// A router that has not seen the Draining replica yet (an older table) holds the drain even
// with nothing in flight; one that stops reporting is not waited for.
TEST_F(ReconcilerTest, ADrainWaitsForEveryRouterToHaveSeenItAndForNoRouterThatWentAway) {
  apply(manifests(2));
  ASSERT_TRUE(run_until([&] { return settled_on(2, "a"); }));
  router_reports({});
  auto before = hub_.resource_version();
  apply(manifests(1));
  ASSERT_TRUE(run_until([&] { return engines().at("small-1").state == api::EngineState::draining; }));
  drains_.report("router-a", before, {}, DrainTracker::Clock::now());  // not seen yet
  io_.run_for(300ms);
  EXPECT_EQ(engines().count("small-1"), 1u);
  // No report for DrainTracker::kStale: the router is taken for gone.
  EXPECT_TRUE(run_until([&] { return engines().size() == 1; }));
}

// A drain that outlasts terminationGracePeriodSeconds stops the replica anyway, and says so.
TEST_F(ReconcilerTest, ADrainThatRunsOutOfTimeStopsTheReplicaAnyway) {
  apply(manifests(2, "a", 0, 1));
  ASSERT_TRUE(run_until([&] { return settled_on(2, "a"); }));
  router_reports({});
  apply(manifests(1, "a", 0, 1));
  ASSERT_TRUE(run_until([&] { return engines().at("small-1").state == api::EngineState::draining; }));
  router_reports({{"small-1", 3}});
  router_reports({{"small-1", 3}});
  ASSERT_TRUE(run_until([&] { return engines().size() == 1; }));
  auto seen = reasons("small-1");
  EXPECT_NE(std::find(seen.begin(), seen.end(), "DrainTimedOut"), seen.end());
}

// A replica that never served (not Ready yet) has nothing to drain: it stops at once.
TEST_F(ReconcilerTest, AReplicaThatNeverServedIsNotDrained) {
  apply(manifests(1, "a", 2));  // waits Pending: no device
  ASSERT_TRUE(run_until([&] { return engines().count("small-0") == 1; }));
  router_reports({{"small-0", 1}});
  apply(manifests(0, "a", 2));
  ASSERT_TRUE(run_until([&] { return engines().empty(); }));
  auto seen = reasons("small-0");
  EXPECT_EQ(std::find(seen.begin(), seen.end(), "Draining"), seen.end());
}

TEST_F(ReconcilerTest, AChangedSpecReplacesEveryReplicaAtOnceWithoutOneAtATime) {
  apply(manifests(2, "a"));
  ASSERT_TRUE(run_until([&] { return settled_on(2, "a"); }));
  planner_.censuses.clear();
  apply(manifests(2, "b"));
  ASSERT_TRUE(run_until([&] { return settled_on(2, "b"); }));
  // Both went down together: some pass saw both terminating.
  bool both_down = false;
  for (const auto& c : planner_.censuses) both_down |= c.terminating == 2;
  EXPECT_TRUE(both_down);
}

TEST_F(ReconcilerTest, OneAtATimeNeverHasMoreThanOneReplicaDown) {
  apply(manifests(3, "a"));
  ASSERT_TRUE(run_until([&] { return settled_on(3, "a"); }));
  planner_.one_at_a_time = true;
  planner_.censuses.clear();
  apply(manifests(3, "b"));
  ASSERT_TRUE(run_until([&] { return settled_on(3, "b"); }));
  ASSERT_FALSE(planner_.censuses.empty());
  for (const auto& c : planner_.censuses)
    EXPECT_LE(c.terminating + c.not_ready, 1) << "terminating " << c.terminating << ", not ready " << c.not_ready;
}

TEST_F(ReconcilerTest, AReplicaWithoutDevicesWaitsPendingWithTheReasonAndStartsWhenTheyCome) {
  apply(manifests(1, "a", 2));
  ASSERT_TRUE(run_until([&] { return engines().count("small-0") == 1; }));
  io_.run_for(50ms);  // more passes change nothing: still waiting
  auto pending = engines().at("small-0");
  EXPECT_EQ(pending.state, api::EngineState::pending);
  EXPECT_EQ(pending.pid, 0);
  EXPECT_NE(pending.message.find("insufficient cpu devices: need 2"), std::string::npos) << pending.message;

  devices_.free = 2;
  reconciler_.trigger();  // as the device manager's change callback does
  ASSERT_TRUE(run_until([&] { return settled_on(1, "a"); }));
  EXPECT_EQ(engines().at("small-0").devices, (std::vector<std::string>{"d0", "d1"}));
  EXPECT_EQ(devices_.holders.size(), 2u);
}

TEST_F(ReconcilerTest, AnEvictedReplicaIsStoppedAndPlacedAgainWithFreshDevices) {
  devices_.free = 2;
  apply(manifests(1, "a", 1));
  ASSERT_TRUE(run_until([&] { return settled_on(1, "a"); }));
  auto before = engines().at("small-0");
  EXPECT_EQ(before.devices, std::vector<std::string>{"d0"});
  reconciler_.evict({{"small-0", "device fake/d0 is Unhealthy: XID 79"}});
  ASSERT_TRUE(run_until([&] {
    auto all = engines();
    return all.count("small-0") && all.at("small-0").pid != before.pid && all.at("small-0").ready;
  }));
  EXPECT_EQ(devices_.holders.size(), 1u);  // the old replica's device went back first
  auto events = events_.list("small");
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const auto& e) {
    return e["reason"] == "DeviceUnhealthy" && e["message"] == "device fake/d0 is Unhealthy: XID 79";
  })) << events.dump();
}

TEST_F(ReconcilerTest, ADeletedDeploymentLosesItsReplicasAndTheirDevices) {
  devices_.free = 2;
  apply(manifests(2, "a", 1));
  ASSERT_TRUE(run_until([&] { return settled_on(2, "a"); }));
  EXPECT_EQ(devices_.holders.size(), 2u);
  store_.remove("EngineDeployment", "small");
  ASSERT_TRUE(run_until([&] { return reconciler_.engines().empty(); }));
  EXPECT_TRUE(devices_.holders.empty());
  EXPECT_TRUE(planner_.retained.empty());
  apply(manifests(1));  // for the fixture's teardown
}

}  // namespace
}  // namespace duet::daemon
