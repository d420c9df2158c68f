#pragma once
// A client of duetd's watch stream for tests: collects every NDJSON event it receives, and
// runs its own io_context until a condition holds (with a deadline).

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "duet/common/address.h"
#include "duet/common/http_client.h"
#include "duet/common/line_splitter.h"

namespace duet::test {

class WatchClient {
 public:
  // GET `target` (e.g. /apis/v1/watch?resourceVersion=7) on `api`.
  WatchClient(const Address& api, const std::string& target);
  ~WatchClient();

  // Runs the stream until `done` holds or `timeout` passes; returns whether it held.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  const std::vector<nlohmann::json>& events() const { return events_; }
  // Whether an Engine event with `name` in `state` arrived.
  bool saw_engine(const std::string& name, const std::string& state) const;

 private:
  boost::asio::io_context io_;
  LineSplitter lines_;
  std::vector<nlohmann::json> events_;
  std::shared_ptr<http::ClientCall> call_;
};

}  // namespace duet::test
