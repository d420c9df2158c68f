// DeviceManager in process (daemon/device_manager.h) over a plugin whose scans the test holds,
// as a wedged driver would: the loop keeps serving timers and allocations meanwhile, the
// health change arrives on the loop once the scan returns, and stop() never waits on it long.
#include "daemon/device_manager.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>

#include "deviceplugin/scanning_plugin.h"

namespace duet::daemon {
namespace {

namespace dp = deviceplugin;
using namespace std::chrono_literals;

// The host the plugin scans: devices the test sets, and a hold that keeps scans waiting.
// Shared with the plugin, which a detached device thread may keep after the test's scope.
class FakeHost {
 public:
  explicit FakeHost(std::vector<dp::Device> devices) : devices_(std::move(devices)) {}

  void hold_scans() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  void release_scans() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    released_.notify_all();
  }
  void set_health(const std::string& id, dp::DeviceHealth health) {
    std::lock_guard lock(mutex_);
    for (auto& d : devices_)
      if (d.id == id) d.health = std::move(health);
  }
  int scans_waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_;
  }
  bool plugin_gone() const {
    std::lock_guard lock(mutex_);
    return plugin_gone_;
  }
  void mark_plugin_gone() {
    std::lock_guard lock(mutex_);
    plugin_gone_ = true;
  }

  // What one scan sees, once the hold is released.
  std::vector<dp::Device> scan() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    released_.wait(lock, [&] { return !held_; });
    --waiting_;
    return devices_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable released_;
  std::vector<dp::Device> devices_;
  bool held_ = false;
  int waiting_ = 0;
  bool plugin_gone_ = false;
};

// Takes the first free healthy devices: placement is not what these tests look at.
class FirstFreeInventory : public dp::Inventory {
 public:
  using Inventory::Inventory;
  dp::AllocateResult allocate(std::size_t count,
                              const std::set<std::string>& free_ids) const override {
    auto free = free_healthy(free_ids);
    if (free.size() < count) return dp::AllocateResult::fail(insufficient(count, free.size()));
    dp::Allocation a;
    for (std::size_t i = 0; i < count; ++i) a.device_ids.push_back(free[i]->id);
    return dp::AllocateResult::ok(std::move(a));
  }
};

class FakeHostPlugin : public dp::ScanningPlugin {
 public:
  explicit FakeHostPlugin(std::shared_ptr<FakeHost> host)
      : ScanningPlugin("fake"), host_(std::move(host)) {}
  ~FakeHostPlugin() override { host_->mark_plugin_gone(); }

  // DevicePlugin
  dp::DiscoverySource source() const override { return {"fake", "the test's FakeHost"}; }

 protected:
  // ScanningPlugin
  std::vector<dp::Device> scan() override { return host_->scan(); }
  std::shared_ptr<const dp::Inventory> make_inventory(
      std::vector<dp::Device> devices) const override {
    return std::make_shared<FirstFreeInventory>("fake", std::move(devices));
  }

 private:
  std::shared_ptr<FakeHost> host_;
};

dp::Device fake_device(int index) {
  dp::Device d;
  d.kind = "fake";
  d.id = std::to_string(index);
  d.index = index;
  d.model = "Fake accelerator";
  return d;
}

class DeviceManagerTest : public ::testing::Test {
 protected:
  // A DeviceManager over one FakeHostPlugin with devices 0 and 1, polled every `period`.
  std::unique_ptr<DeviceManager> make_devices(std::chrono::milliseconds period = 5ms) {
    std::vector<std::unique_ptr<dp::DevicePlugin>> plugins;
    plugins.push_back(std::make_unique<FakeHostPlugin>(host_));
    auto devices =
        std::make_unique<DeviceManager>(io_, dp::Registry(std::move(plugins)), hub_, period);
    devices->start([this](const Evictions& engines) { evicted_ = engines; });
    return devices;
  }

  // Runs the loop until `done` or `within` has passed; false on the deadline.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds within = 5s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_for(2ms);
    }
    return true;
  }

  // Holds the device thread in its next scan, then makes device 0 unhealthy behind it.
  void wedge_scan_then_fail_device_0() {
    host_->hold_scans();
    ASSERT_TRUE(run_until([&] { return host_->scans_waiting() == 1; }));
    host_->set_health("0", dp::DeviceHealth::unhealthy("XID 79 (critical error)"));
  }

  boost::asio::io_context io_{1};  // as duetd's
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  WatchHub hub_{io_};
  std::shared_ptr<FakeHost> host_ =
      std::make_shared<FakeHost>(std::vector<dp::Device>{fake_device(0), fake_device(1)});
  std::optional<Evictions> evicted_;
};

TEST_F(DeviceManagerTest, LoopServesWhileAScanIsStuckThenTakesTheChange) {
  auto devices = make_devices();
  ASSERT_EQ(devices->devices_json().size(), 2u);  // discovered before start() returned
  auto first = devices->allocate("fake", 1, "engine-a");
  ASSERT_TRUE(first) << first.reason;
  EXPECT_EQ(first.allocation->device_ids, std::vector<std::string>{"0"});

  wedge_scan_then_fail_device_0();
  bool timer_fired = false;
  boost::asio::steady_timer timer(io_, 1ms);
  timer.async_wait([&](boost::system::error_code) { timer_fired = true; });
  EXPECT_TRUE(run_until([&] { return timer_fired; }, 1s));
  auto second = devices->allocate("fake", 1, "engine-b");
  ASSERT_TRUE(second) << second.reason;
  EXPECT_EQ(second.allocation->device_ids, std::vector<std::string>{"1"});
  EXPECT_EQ(devices->devices_json()[0]["health"], "Healthy");  // the stuck scan has not said
  EXPECT_EQ(host_->scans_waiting(), 1);
  EXPECT_FALSE(evicted_);

  host_->release_scans();
  ASSERT_TRUE(run_until([&] { return evicted_.has_value(); }));
  EXPECT_EQ(*evicted_, (Evictions{{"engine-a", "device fake/0 is Unhealthy: XID 79 (critical error)"}}));
  auto listed = devices->devices_json();
  EXPECT_EQ(listed[0]["health"], "Unhealthy");
  EXPECT_EQ(listed[0]["reason"], "XID 79 (critical error)");
  EXPECT_EQ(listed[0]["engine"], "engine-a");
  EXPECT_EQ(hub_.resource_version(), 1u);  // one Device MODIFIED event
}

TEST_F(DeviceManagerTest, DeviceThatRecoversComesBackWithoutEvictions) {
  host_->set_health("1", dp::DeviceHealth::unhealthy("device node /dev/fake1 is missing"));
  auto devices = make_devices();
  EXPECT_FALSE(devices->allocate("fake", 2, "engine-a"));
  host_->set_health("1", dp::DeviceHealth::healthy());
  ASSERT_TRUE(run_until([&] { return evicted_.has_value(); }));
  EXPECT_TRUE(evicted_->empty());
  EXPECT_TRUE(devices->allocate("fake", 2, "engine-a"));
}

TEST_F(DeviceManagerTest, StopIsPromptBetweenScans) {
  auto devices = make_devices(1h);
  auto begin = std::chrono::steady_clock::now();
  devices->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 1s);
}

TEST_F(DeviceManagerTest, StopLeavesAStuckScanBehindAndNothingRunsAfter) {
  auto devices = make_devices();
  wedge_scan_then_fail_device_0();
  auto begin = std::chrono::steady_clock::now();
  devices->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, DevicePoller::kStopGrace + 2s);
  devices.reset();

  // The detached thread ends its scan, posts nothing, and lets the plugin go.
  host_->release_scans();
  ASSERT_TRUE(run_until([&] { return host_->plugin_gone(); }));
  io_.poll();
  EXPECT_FALSE(evicted_);
  EXPECT_EQ(hub_.resource_version(), 0u);
}

}  // namespace
}  // namespace duet::daemon
