#include "support/watch_client.h"

namespace duet::test {

WatchClient::WatchClient(const Address& api, const std::string& target) {
  http::StreamHandlers handlers;
  handlers.on_data = [this](std::string_view data) {
    for (auto& line : lines_.feed(data)) events_.push_back(nlohmann::json::parse(line));
  };
  call_ = http::ClientCall::stream(io_.get_executor(), api,
                                   http::make_request(http::bhttp::verb::get, target, api),
                                   std::chrono::seconds(5), handlers);
}

WatchClient::~WatchClient() {
  call_->cancel();
  io_.run_for(std::chrono::milliseconds(100));  // lets the cancelled call finish
}

bool WatchClient::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(std::chrono::milliseconds(20));
  return done();
}

bool WatchClient::saw_engine(const std::string& name, const std::string& state) const {
  for (const auto& e : events_)
    if (e.value("kind", "") == "Engine" && e["object"]["name"] == name && e["object"]["state"] == state)
      return true;
  return false;
}

}  // namespace duet::test
