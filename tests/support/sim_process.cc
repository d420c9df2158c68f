#include "support/sim_process.h"

#include <boost/asio/post.hpp>
#include <future>
#include <stdexcept>

#include "duet/common/line_splitter.h"

namespace duet::test {

namespace bhttp = http::bhttp;

std::pair<std::vector<nlohmann::json>, bool> sse_events(const std::string& body) {
  std::vector<nlohmann::json> events;
  bool done = false;
  LineSplitter lines;
  for (const auto& line : lines.feed(body)) {
    if (line == "data: [DONE]") done = true;
    else if (line.starts_with("data: ")) events.push_back(nlohmann::json::parse(line.substr(6)));
  }
  return {events, done};
}

SimProcess::SimProcess(const std::vector<std::string>& flags,
                       std::map<std::string, std::string> env)
    : process_(
          [&] {
            std::vector<std::string> argv = {bin("duet-sim"), "--port", "0"};
            argv.insert(argv.end(), flags.begin(), flags.end());
            return argv;
          }(),
          std::move(env)) {
  if (!process_.wait_for_output("event=listening port="))
    throw std::runtime_error("duet-sim did not start: " + process_.output());
  const std::string key = "event=listening port=";
  std::string output = process_.output();
  address_.host = "127.0.0.1";
  address_.port = static_cast<uint16_t>(std::stoi(output.substr(output.find(key) + key.size())));
}

http::ClientResponse SimProcess::get(std::string_view target, std::chrono::milliseconds timeout) {
  return http::fetch_sync(address_, http::make_request(bhttp::verb::get, target, address_),
                          timeout);
}

http::ClientResponse SimProcess::post(std::string_view target, std::string body,
                                      std::chrono::milliseconds timeout) {
  return http::fetch_sync(
      address_,
      http::make_request(bhttp::verb::post, target, address_, std::move(body), "application/json"),
      timeout);
}

double SimProcess::metric(const std::string& name, const std::string& model) {
  std::string text = get("/metrics").body();
  std::string key = "\n" + name + "{model_name=\"" + model + "\"} ";
  auto at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size(), text.find('\n', at + 1) - at - key.size()));
}

std::string StreamRecord::body() const {
  std::lock_guard lock(mutex_);
  std::string all;
  for (const auto& piece : pieces_) all += piece.data;
  return all;
}

std::vector<StreamRecord::Piece> StreamRecord::pieces() const {
  std::lock_guard lock(mutex_);
  return pieces_;
}

bool StreamRecord::ended() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

http::error_code StreamRecord::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

std::string StreamRecord::header(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = headers_.find(name);
  return it == headers_.end() ? "" : it->second;
}

StreamClient::StreamClient() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}

StreamClient::~StreamClient() {
  for (const auto& record : records_) cancel(record);
  work_.reset();
  thread_.join();
}

std::shared_ptr<StreamRecord> StreamClient::open(const Address& to, std::string_view target,
                                                 std::string body) {
  auto record = std::make_shared<StreamRecord>();
  records_.push_back(record);
  http::StreamHandlers handlers;
  // Weak: the record holds the call, which holds these handlers.
  std::weak_ptr<StreamRecord> weak = record;
  handlers.on_header = [weak](const http::ClientResponseHeader& header) {
    auto record = weak.lock();
    if (!record) return;
    std::lock_guard lock(record->mutex_);
    for (const auto& field : header)
      record->headers_[std::string(field.name_string())] = field.value();
    record->headers_[":status"] = std::to_string(header.result_int());
  };
  handlers.on_data = [weak](std::string_view data) {
    auto record = weak.lock();
    if (!record) return;
    std::lock_guard lock(record->mutex_);
    record->pieces_.push_back({StreamRecord::Clock::now(), std::string(data)});
  };
  handlers.on_end = [weak](http::error_code ec) {
    auto record = weak.lock();
    if (!record) return;
    std::lock_guard lock(record->mutex_);
    record->ended_ = true;
    record->error_ = ec;
  };
  auto request =
      http::make_request(bhttp::verb::post, target, to, std::move(body), "application/json");
  std::promise<void> opened;
  boost::asio::post(io_, [&] {
    record->call_ = http::ClientCall::stream(io_.get_executor(), to, std::move(request),
                                             std::chrono::seconds(10), std::move(handlers));
    opened.set_value();
  });
  opened.get_future().wait();
  return record;
}

void StreamClient::cancel(const std::shared_ptr<StreamRecord>& record) {
  boost::asio::post(io_, [record] {
    if (record->call_) record->call_->cancel();
  });
}

}  // namespace duet::test
