#include "fake_duetd.h"

#include <boost/asio/post.hpp>
#include <future>

namespace duet::router::test {

namespace bhttp = boost::beast::http;

FakeDuetd::FakeDuetd(const std::string& socket_path, nlohmann::json snapshot)
    : address_("unix:" + socket_path),
      work_(io_.get_executor()),
      server_(io_, [this](std::shared_ptr<http::Exchange> e) { handle(e); }),
      snapshot_(std::move(snapshot)) {
  server_.listen(Address::parse(address_));
  thread_ = std::thread([this] { io_.run(); });
}

FakeDuetd::~FakeDuetd() {
  stop();
  work_.reset();
  thread_.join();
}

void FakeDuetd::handle(const std::shared_ptr<http::Exchange>& exchange) {
  // A resume (?resourceVersion=...) gets a snapshot: the fake keeps no change log, as a
  // duetd that restarted.
  auto target = exchange->request().target();
  if (target.substr(0, target.find('?')) != "/apis/v1/watch")
    return exchange->reply_error(404, "the fake duetd serves only /apis/v1/watch");
  bhttp::response<bhttp::empty_body> header(bhttp::status::ok, 11);
  header.set(bhttp::field::content_type, "application/x-ndjson");
  exchange->begin_stream(std::move(header));
  exchange->send(snapshot_.dump() + "\n");
  streams_.push_back(exchange);
  {
    std::lock_guard lock(mutex_);
    last_target_ = std::string(target);
  }
  ++watches_;
}

void FakeDuetd::push(const nlohmann::json& event, nlohmann::json next_snapshot) {
  push_raw(event.dump() + "\n", std::move(next_snapshot));
}

void FakeDuetd::push_raw(const std::string& bytes, nlohmann::json next_snapshot) {
  std::promise<void> sent;
  boost::asio::post(io_, [&] {
    if (!next_snapshot.is_null()) snapshot_ = std::move(next_snapshot);
    // An Exchange is used on its connection's strand; this io_context has one thread.
    for (const auto& stream : streams_)
      if (!stream->client_gone()) stream->send(bytes);
    sent.set_value();
  });
  sent.get_future().wait();
}

void FakeDuetd::stop() {
  std::promise<void> stopped;
  boost::asio::post(io_, [&] {
    server_.stop();
    streams_.clear();
    stopped.set_value();
  });
  stopped.get_future().wait();
}

}  // namespace duet::router::test
