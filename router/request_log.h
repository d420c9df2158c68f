#pragma once
// What the router records about each request when it ends, and who is told: the access
// log and the metrics (RouterStats).

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duet/common/log.h"
#include "router/latency_histogram.h"
#include "router/pick_reason.h"

namespace duet::jwt {
struct Verdict;
}

namespace duet::router {

class RoutingTable;

// Owns what its views point into: `table` holds the route, deployment and replica names;
// method, pool, version and track name are static strings.
struct RequestRecord {
  unsigned worker = 0;     // the worker thread that served it
  std::string connection;  // `W.N`: worker thread and connection number
  uint64_t request = 0;    // per connection, from 1
  std::shared_ptr<const RoutingTable> table;  // the one the request was decided on
  std::shared_ptr<const jwt::Verdict> token;  // the request's JWT; null without one
  std::string_view method;
  std::string target;
  std::string_view route;    // empty: no route matched
  std::string_view pool;     // small | large | backend; empty when none was chosen
  std::string_view version;  // stable | canary; empty when none was chosen
  std::string_view backend;  // deployment/replica that answered; empty when none did
  std::string_view deployment;      // the deployment chosen; empty when none was
  std::string_view engine_version;  // spec.version of the last replica tried; empty: none
  // The deployment and track chosen first when another one answered instead: none of its
  // endpoints was in rotation, or each one tried failed before answering. Empty otherwise.
  std::string_view passed_over_deployment, passed_over_track;
  int status = 0;            // sent to the client (0: nothing was sent)
  uint64_t bytes = 0;        // response body bytes sent to the client
  unsigned attempts = 0;     // upstream endpoints tried
  unsigned migrations = 0;   // of those, engines that took the stream over mid-answer
  uint64_t tokens = 0;       // the size estimate (0 when the route needed none)
  std::chrono::steady_clock::duration duration{};
  std::chrono::steady_clock::duration first_byte{};  // first body byte from the engine
  LocalHistogram chunk_gaps;                         // gaps between body chunks, if any
  std::string error;                                 // why it failed, empty when it did not
  std::string decision;  // why the endpoint was picked (x-duet-decision); empty: none was
  PickReason why;        // the same, as numbers for the metrics

  // The JWT `sub`; empty without a token.
  std::string_view subject() const;
};

// Told about every request that ends. Runs on the worker thread that served the request,
// so implementations must be thread-safe and must not block.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void on_request_done(const RequestRecord& record) = 0;
};

// Tells every observer in turn (the access log, the metrics).
class RequestObservers : public RequestObserver {
 public:
  explicit RequestObservers(std::initializer_list<RequestObserver*> observers)
      : observers_(observers) {}
  void on_request_done(const RequestRecord& record) override {
    for (auto* o : observers_) o->on_request_done(record);
  }

 private:
  std::vector<RequestObserver*> observers_;
};

// One `event=request` line per request.
class AccessLog : public RequestObserver {
 public:
  AccessLog() : logger_("router") {}

  // RequestObserver
  void on_request_done(const RequestRecord& record) override;

 private:
  Logger logger_;
};

}  // namespace duet::router
