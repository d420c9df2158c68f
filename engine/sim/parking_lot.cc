#include "sim/parking_lot.h"

#include <algorithm>
#include <boost/asio/post.hpp>

namespace duet::sim {

void ParkingLot::park(std::shared_ptr<http::Exchange> exchange) {
  // By address: the exchange holds its callback, so a shared_ptr here would keep it forever.
  exchange->on_cut([this, parked = exchange.get()] {
    std::shared_ptr<http::Exchange> found;
    {
      std::lock_guard lock(mutex_);
      auto it = std::find_if(parked_.begin(), parked_.end(),
                             [&](const auto& held) { return held.get() == parked; });
      if (it == parked_.end()) return;
      found = std::move(*it);
      parked_.erase(it);
    }
    found->reply(http::bhttp::status::service_unavailable, {});
  });
  std::lock_guard lock(mutex_);
  parked_.push_back(std::move(exchange));
}

void ParkingLot::release_all() {
  std::vector<std::shared_ptr<http::Exchange>> parked;
  {
    std::lock_guard lock(mutex_);
    parked.swap(parked_);
  }
  for (auto& exchange : parked) {
    auto executor = exchange->executor();
    // Queued behind the server's close on the same strand, so this reply is dropped; it
    // only marks the exchange answered, which keeps it from being logged as abandoned.
    boost::asio::post(executor, [exchange = std::move(exchange)] {
      exchange->reply(http::bhttp::status::service_unavailable, {});
    });
  }
}

std::size_t ParkingLot::size() const {
  std::lock_guard lock(mutex_);
  return parked_.size();
}

}  // namespace duet::sim
