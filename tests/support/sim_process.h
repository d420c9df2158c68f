#pragma once
// Test helpers around the real duet-sim binary: start it on an ephemeral port, talk to it
// over HTTP (whole answers, or SSE streams read on a background thread), read its metrics.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "duet/common/http_client.h"
#include "support/child_process.h"

namespace duet::test {

// A running duet-sim with `flags`; the constructor waits for its `listening` line.
class SimProcess {
 public:
  explicit SimProcess(const std::vector<std::string>& flags,
                      std::map<std::string, std::string> env = {});

  http::ClientResponse get(std::string_view target,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));
  http::ClientResponse post(std::string_view target, std::string body,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The value of `name{model_name="<model>"}` in /metrics; -1 when absent.
  double metric(const std::string& name, const std::string& model = "duet-sim");

  const Address& address() const { return address_; }
  uint16_t port() const { return address_.port; }
  ChildProcess& process() { return process_; }

 private:
  ChildProcess process_;
  Address address_;
};

// One SSE response read as it arrives. Thread-safe: filled by the client thread.
class StreamRecord {
 public:
  using Clock = std::chrono::steady_clock;
  struct Piece {
    Clock::time_point at;
    std::string data;
  };

  std::string body() const;
  std::vector<Piece> pieces() const;
  bool ended() const;
  http::error_code error() const;
  std::string header(std::string_view name) const;

 private:
  friend class StreamClient;
  mutable std::mutex mutex_;
  std::vector<Piece> pieces_;
  std::map<std::string, std::string, std::less<>> headers_;
  bool ended_ = false;
  http::error_code error_;
  std::shared_ptr<http::ClientCall> call_;
};

// The JSON of each `data:` event of an SSE body, and whether `data: [DONE]` ended it.
std::pair<std::vector<nlohmann::json>, bool> sse_events(const std::string& body);

// Opens SSE requests on a background io thread; closes them all when destroyed.
class StreamClient {
 public:
  StreamClient();
  ~StreamClient();

  std::shared_ptr<StreamRecord> open(const Address& to, std::string_view target, std::string body);
  // Closes the connection of `record`, as a client that goes away.
  void cancel(const std::shared_ptr<StreamRecord>& record);

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::shared_ptr<StreamRecord>> records_;
  std::thread thread_;
};

}  // namespace duet::test
