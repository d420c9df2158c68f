#pragma once
// A stand-in for duetd's node API that serves only GET /apis/v1/watch on a unix socket:
// each watcher gets the current snapshot line, then every pushed event, and the stream
// stays open. Lets router tests drive the routing table without a real duetd.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "duet/common/http_server.h"

namespace duet::router::test {

class FakeDuetd {
 public:
  // Listens on `socket_path`; `snapshot` is the first line every watcher gets.
  FakeDuetd(const std::string& socket_path, nlohmann::json snapshot);
  ~FakeDuetd();

  // `unix:PATH`, for --source.
  const std::string& address() const { return address_; }
  // Sends `event` as one line to every open watch stream; later watchers get the new
  // snapshot given with it, if any. Any thread.
  void push(const nlohmann::json& event, nlohmann::json next_snapshot = nullptr);
  // The same with any bytes: a line cut short, or one that never ends.
  void push_raw(const std::string& bytes, nlohmann::json next_snapshot = nullptr);
  // Watch streams served so far (reconnects count again).
  int watches() const { return watches_.load(); }
  // The request target of the latest watch (a resume carries ?resourceVersion=...).
  std::string last_target() const {
    std::lock_guard lock(mutex_);
    return last_target_;
  }
  // Stops answering and closes every stream, as a duetd that went down.
  void stop();

 private:
  void handle(const std::shared_ptr<http::Exchange>& exchange);

  std::string address_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  http::Server server_;
  nlohmann::json snapshot_;                               // io thread only
  std::vector<std::shared_ptr<http::Exchange>> streams_;  // io thread only
  std::atomic<int> watches_{0};
  mutable std::mutex mutex_;
  std::string last_target_;
  std::thread thread_;
};

}  // namespace duet::router::test
