#pragma once
// What the router records about each request when it ends, and who is told: the access
// log now; issue 5's metrics (duet_router_requests_total etc.) become a second observer.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "duet/common/log.h"

namespace duet::router {

struct RequestRecord {
  std::string connection;  // `W.N`: worker thread and connection number
  uint64_t request = 0;    // per connection, from 1
  std::string_view method;
  std::string_view target;
  std::string_view route;    // empty: no route matched
  std::string_view pool;     // small | large | backend; empty when none was chosen
  std::string_view version;  // stable | canary; empty when none was chosen
  std::string_view backend;  // deployment/replica that answered; empty when none did
  int status = 0;            // sent to the client (0: nothing was sent)
  uint64_t bytes = 0;        // response body bytes sent to the client
  unsigned attempts = 0;     // upstream endpoints tried
  uint64_t tokens = 0;       // the size estimate (0 when the route needed none)
  std::chrono::steady_clock::duration duration{};
  std::chrono::steady_clock::duration first_byte{};  // upstream header received
  std::string_view error;                            // why it failed, empty when it did not
};

// Told about every request that ends. Runs on the worker thread that served the request,
// so implementations must be thread-safe and must not block.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void on_request_done(const RequestRecord& record) = 0;
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
