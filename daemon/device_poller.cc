#include "daemon/device_poller.h"

#include <boost/asio/post.hpp>
#include <condition_variable>
#include <future>
#include <mutex>

#include "daemon/daemon_logger.h"

namespace duet::daemon {

namespace dp = deviceplugin;

namespace {
// One plugin, once. A plugin that throws keeps its last inventory: its devices stay as they
// were rather than vanish, and the next pass tries again.
PluginScan scan(dp::DevicePlugin& plugin, bool first) {
  PluginScan out{std::string(plugin.handler()), {}, {}, {}};
  try {
    if (first)
      plugin.discover();
    else
      out.changed = plugin.check_health();
  } catch (const std::exception& e) {
    devices_logger().error("device_scan_failed", {{"handler", out.handler}, {"error", e.what()}});
  }
  out.source = plugin.source();
  out.inventory = plugin.inventory();
  return out;
}

std::vector<PluginScan> scan_all(const dp::Registry& registry, bool first) {
  std::vector<PluginScan> out;
  for (const auto& plugin : registry.plugins()) out.push_back(scan(*plugin, first));
  return out;
}
}  // namespace

// What the thread shares with the poller. The thread holds it too, so a detached thread
// still has its plugins.
struct DevicePoller::Shared {
  Shared(boost::asio::io_context& loop, dp::Registry registry, std::chrono::milliseconds period)
      : loop(loop), registry(std::move(registry)), period(period) {}

  boost::asio::io_context& loop;  // used only before a stop: duetd's loop outlives that
  dp::Registry registry;          // the device thread's alone once it starts
  std::chrono::milliseconds period;
  OnScan on_scan;  // set before the thread starts; runs on the loop
  std::promise<std::vector<PluginScan>> first;

  // Guards the stop request against a post: stop() requests under it, and the thread posts
  // only under it and only when no stop was requested.
  std::mutex mutex;
  std::condition_variable_any wake;  // the wait between passes; a stop request ends it
  bool finished = false;             // the thread has left the plugins alone for good
  std::condition_variable done;
};

DevicePoller::DevicePoller(boost::asio::io_context& loop, dp::Registry registry,
                           std::chrono::milliseconds period)
    : shared_(std::make_shared<Shared>(loop, std::move(registry), period)) {}

DevicePoller::~DevicePoller() { stop(); }

std::vector<PluginScan> DevicePoller::start(OnScan on_scan) {
  shared_->on_scan = std::move(on_scan);
  auto first = shared_->first.get_future();
  thread_ = std::jthread(&DevicePoller::run, shared_);
  // duetd needs its devices before it adopts engines, so this waits; a driver that hangs
  // here holds duetd's start, which systemd's start timeout then reports.
  return first.get();
}

void DevicePoller::run(std::stop_token stop, std::shared_ptr<Shared> s) {
  s->first.set_value(scan_all(s->registry, true));
  for (;;) {
    {
      std::unique_lock lock(s->mutex);
      s->wake.wait_for(lock, stop, s->period, [] { return false; });
      if (stop.stop_requested()) break;
    }
    auto scans = scan_all(s->registry, false);  // unlocked: stop() must never wait on a driver
    std::lock_guard lock(s->mutex);
    if (stop.stop_requested()) break;
    // io_context(1) keeps Asio's locking: a post from another thread is safe.
    boost::asio::post(s->loop, [s, stop, scans = std::move(scans)]() mutable {
      // Queued before a stop, run after it: DeviceManager may be gone.
      if (!stop.stop_requested()) s->on_scan(std::move(scans));
    });
  }
  std::lock_guard lock(s->mutex);
  s->finished = true;
  s->done.notify_all();
}

void DevicePoller::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(shared_->mutex);
    thread_.request_stop();
  }
  std::unique_lock lock(shared_->mutex);
  bool finished = shared_->done.wait_for(lock, kStopGrace, [&] { return shared_->finished; });
  lock.unlock();
  if (finished) {
    thread_.join();
    return;
  }
  devices_logger().warn("device_scan_stuck", {{"waitedSeconds", kStopGrace.count()},
                                              {"action", "left to finish on its own"}});
  thread_.detach();
}

}  // namespace duet::daemon
