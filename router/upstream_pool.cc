#include "router/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

#include "router/event_clock.h"

namespace duet::router {

namespace {
constexpr auto kSweepEvery = std::chrono::seconds(10);
// A connection idle for less than this is taken without asking the kernel whether the
// engine closed it (a syscall per request otherwise): engines close idle connections after
// seconds, and a request that meets a closed one anyway is retried on a fresh connection.
constexpr auto kTrustedIdle = std::chrono::seconds(1);
}

bool still_open(UpstreamConnection& connection) {
  auto& socket = connection.stream;
  if (!socket.is_open()) return false;
  // A peek that would block means open and quiet. 0 means the engine closed it (its
  // keep-alive timeout, or it died); bytes mean it sent something unasked: unusable too.
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

UpstreamPool::UpstreamPool(std::size_t max_idle_per_endpoint, std::chrono::seconds max_idle_time)
    : max_idle_per_endpoint_(max_idle_per_endpoint), max_idle_time_(max_idle_time) {}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(const boost::asio::ip::tcp::endpoint& to) {
  auto it = idle_.find(to);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  auto now = EventClock::now();
  while (!list.empty()) {
    auto connection = std::move(list.back());
    list.pop_back();
    auto idle = now - connection->idle_since;
    if (idle < max_idle_time_ && (idle < kTrustedIdle || still_open(*connection))) {
      connection->reused = true;
      return connection;
    }
  }
  return nullptr;
}

void UpstreamPool::put(std::unique_ptr<UpstreamConnection> connection) {
  auto now = EventClock::now();
  if (now - last_sweep_ > kSweepEvery) sweep(now);
  auto& list = idle_[connection->peer];
  if (list.size() >= max_idle_per_endpoint_) return;  // closed by its destructor
  connection->stream.expires_never();
  connection->idle_since = now;
  list.push_back(std::move(connection));
}

void UpstreamPool::clear() { idle_.clear(); }

std::size_t UpstreamPool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [peer, list] : idle_) n += list.size();
  return n;
}

// Drops connections that aged out or that engines closed, and endpoints left with none, so
// that engines which went away do not hold file descriptors here.
void UpstreamPool::sweep(std::chrono::steady_clock::time_point now) {
  last_sweep_ = now;
  for (auto it = idle_.begin(); it != idle_.end();) {
    std::erase_if(it->second, [&](const auto& c) {
      return now - c->idle_since >= max_idle_time_ || !still_open(*c);
    });
    it = it->second.empty() ? idle_.erase(it) : std::next(it);
  }
}

}  // namespace duet::router
