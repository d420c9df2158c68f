#pragma once
// A SourceWatcher on a control thread of its own, for tests: its state is read through
// run_on(), on that thread.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <memory>
#include <string>
#include <thread>

#include "router/source_watcher.h"

namespace duet::router {

// Runs a watcher on its own control thread; the test reads its state through run_on().
class WatcherHarness {
 public:
  WatcherHarness(const std::string& source, WatchTiming timing)
      : WatcherHarness(parse_source(source, "test"), timing) {}
  WatcherHarness(SourceConfig source, WatchTiming timing)
      : work_(io_.get_executor()),
        watcher_(std::make_shared<SourceWatcher>(io_, std::move(source), [this] { ++changes_; }, timing)) {
    boost::asio::post(io_, [this] { watcher_->start(); });
    thread_ = std::thread([this] { io_.run(); });
  }
  template <class F>
  auto run_on(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  ~WatcherHarness() {
    run_on([this] { watcher_->stop(); });
    work_.reset();
    thread_.join();
  }
  bool ready_engine() {
    return run_on([this] {
      const auto& engines = watcher_->state().engines();
      return engines.count("d-0") && engines.at("d-0").ready;
    });
  }
  bool knows_deployment(const std::string& name) {
    return run_on([this, &name] { return watcher_->state().deployments().count(name) == 1; });
  }
  bool synced() {
    return run_on([this] { return watcher_->state().synced(); });
  }
  bool connected() {
    return run_on([this] { return watcher_->connected(); });
  }
  nlohmann::json status() {
    return run_on([this] { return watcher_->status(); });
  }
  // Connected again, and its current connection's state refused.
  bool stale() {
    auto s = status();
    return s["connected"] == true && s["stale"] == true;
  }
  int changes() const { return changes_.load(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::atomic<int> changes_{0};
  std::shared_ptr<SourceWatcher> watcher_;
  std::thread thread_;
};

}  // namespace duet::router
