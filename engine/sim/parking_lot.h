#pragma once
// Where duet-sim keeps requests it will never answer once --hang-after has struck: held,
// not dropped, because dropping an exchange closes its connection and a hung engine
// leaves its clients waiting.

#include <memory>
#include <mutex>
#include <vector>

#include "duet/common/http_server.h"

namespace duet::sim {

class ParkingLot {
 public:
  // Keeps `exchange` unanswered for as long as the process lives, or until a graceful
  // stop runs out of time (it is then answered 503 and let go). Thread-safe.
  void park(std::shared_ptr<http::Exchange> exchange);
  // At shutdown, after the server has closed every connection: lets each parked exchange
  // go on its own strand, so it ends quietly on its closed connection.
  void release_all();
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<http::Exchange>> parked_;
};

}  // namespace duet::sim
