#pragma once
// Keep-alive connections to engines, one pool per worker thread (so no locks): a request
// takes an idle connection to its endpoint if one is still open, and gives it back when
// the response ended cleanly.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <unordered_map>
#include <vector>

#include "router/timed_socket.h"

namespace duet::router {

struct UpstreamConnection {
  explicit UpstreamConnection(TimedSocket s) : stream(std::move(s)) {}

  TimedSocket stream;
  boost::beast::flat_buffer buffer;  // what was read from the engine and not yet parsed
  boost::asio::ip::tcp::endpoint peer;
  bool reused = false;  // served a request before: a failure may just mean the engine closed it
  std::chrono::steady_clock::time_point idle_since;
};

// Worker thread only.
class UpstreamPool {
 public:
  explicit UpstreamPool(std::size_t max_idle_per_endpoint = 64,
                        std::chrono::seconds max_idle_time = std::chrono::seconds(30));

  // An idle connection to `to` that the engine has not closed, marked reused; null if none.
  std::unique_ptr<UpstreamConnection> take(const boost::asio::ip::tcp::endpoint& to);
  // Keeps `connection` for the next request to its peer (closes it when the pool is full).
  void put(std::unique_ptr<UpstreamConnection> connection);
  // Closes every idle connection (shutdown).
  void clear();
  std::size_t idle_count() const;

 private:
  void sweep(std::chrono::steady_clock::time_point now);

  std::size_t max_idle_per_endpoint_;
  std::chrono::seconds max_idle_time_;
  std::chrono::steady_clock::time_point last_sweep_{};
  std::unordered_map<boost::asio::ip::tcp::endpoint,
                     std::vector<std::unique_ptr<UpstreamConnection>>>
      idle_;
};

// Whether an idle connection is still usable: open, nothing unread, not closed by the peer.
bool still_open(UpstreamConnection& connection);

}  // namespace duet::router
