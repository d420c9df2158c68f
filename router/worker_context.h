#pragma once
// What a connection needs from the worker thread it runs on: the thread's io_context, its
// copy of the routing table, its upstream pool and random numbers. Everything here is
// touched by that one thread only, so the request path takes no lock.

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

#include "router/auth_failure_limiter.h"
#include "router/config.h"
#include "router/credentials.h"
#include "router/prefix_index.h"
#include "router/rate_limiter.h"
#include "router/request_budget.h"
#include "router/request_log.h"
#include "router/route_decision.h"
#include "router/router_stats.h"
#include "router/routing_table.h"
#include "router/timed_socket.h"
#include "router/token_cache.h"
#include "router/upstream_pool.h"

namespace duet::router {

// A client connection as the worker sees it, for shutdown. Worker thread only.
class DownstreamConnection {
 public:
  virtual ~DownstreamConnection() = default;
  // Stop taking requests: close now when idle, else after the response in progress.
  virtual void drain() = 0;
  // Close now, response in progress or not (the drain deadline passed).
  virtual void close() = 0;
};

// The client's address: the IP alone (stickiness and rate limits without a token) and with
// the port (logs), and whether it is a trustedProxies peer (X-Forwarded-For).
struct Peer {
  std::string ip;
  std::string text;
  bool trusted_proxy = false;
};

// What a worker shares with the others; all of it is safe to use from any thread.
struct WorkerShared {
  const Limits& limits;
  RequestObserver& observer;
  RouterStats& stats;
  RateLimiter* rate_limiter;                   // null: no rateLimit
  std::atomic<std::size_t>& open_connections;  // for limits.maxConnections
  RequestBudget& budget;                       // limits.maxInFlightRequests, ...BodyBytes
  const TrustedProxies& trusted_proxies;
  AuthFailureLimiter& auth_failures;
  PrefixIndex& prefix_index;  // prefix-affinity scheduling; locks per shard
};

struct WorkerContext {
  WorkerContext(boost::asio::io_context& io, unsigned index, const WorkerShared& shared)
      : io(io),
        index(index),
        limits(shared.limits),
        observer(shared.observer),
        stats(shared.stats.worker(index)),
        rate_limiter(shared.rate_limiter),
        open_connections(shared.open_connections),
        budget(shared.budget),
        trusted_proxies(shared.trusted_proxies),
        auth_failures(shared.auth_failures),
        prefix_index(shared.prefix_index),
        rng(0x5eed0000ull + index) {}

  boost::asio::io_context& io;
  const unsigned index;
  const Limits& limits;
  RequestObserver& observer;
  WorkerStats& stats;
  RateLimiter* rate_limiter;
  std::atomic<std::size_t>& open_connections;  // all workers: for limits.maxConnections
  RequestBudget& budget;                       // all workers
  const TrustedProxies& trusted_proxies;
  AuthFailureLimiter& auth_failures;            // all workers
  PrefixIndex& prefix_index;                    // all workers

  std::shared_ptr<const RoutingTable> table;       // replaced by Worker::publish
  std::shared_ptr<const Credentials> credentials;  // replaced by Worker::publish_credentials
  TokenCache tokens;                               // cleared with each new credentials
  EdgeReactor reactor{io};                         // before deadlines and upstreams: their
  Deadlines deadlines{io};                         // sockets use both
  UpstreamPool upstreams;
  Rng rng;
  // Decoded body bytes on their way from an engine's response parser into the client's
  // write buffer: filled and copied out within one handler, never across an asynchronous
  // step, so one per worker serves all its relays.
  std::string body_piece;
  std::unordered_set<DownstreamConnection*> connections;
  uint64_t next_connection = 0;
  bool draining = false;
};

// Counts a request in flight on an endpoint for as long as it lives (p2c reads the counts).
class InFlight {
 public:
  InFlight() = default;
  explicit InFlight(const Endpoint& e) : load_(e.load.get()) {
    load_->in_flight.fetch_add(1, std::memory_order_relaxed);
  }
  InFlight(InFlight&& other) noexcept : load_(std::exchange(other.load_, nullptr)) {}
  InFlight& operator=(InFlight&& other) noexcept {
    release();
    load_ = std::exchange(other.load_, nullptr);
    return *this;
  }
  ~InFlight() { release(); }
  void release() {
    if (load_) load_->in_flight.fetch_sub(1, std::memory_order_relaxed);
    load_ = nullptr;
  }

 private:
  EndpointLoad* load_ = nullptr;
};

}  // namespace duet::router
