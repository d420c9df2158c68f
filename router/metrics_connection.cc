#include "router/metrics_connection.h"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "duet/common/address.h"
#include "router/engine_metrics.h"

namespace duet::router {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

namespace {
constexpr std::size_t kReadBytes = 16 * 1024;
}  // namespace

MetricsConnection::MetricsConnection(asio::any_io_executor ex, asio::ip::tcp::endpoint engine)
    : stream_(std::move(ex)), engine_(std::move(engine)), request_(bhttp::verb::get, "/metrics", 11) {
  request_.set(bhttp::field::host, host_port(engine_));
  request_.set(bhttp::field::user_agent, "duet-router");
  // Beast reads as much as the buffer has room for, at least 512 bytes: room for a 16 KiB
  // piece of the text a read, not 512 (vLLM's /metrics runs to tens of KiB).
  buffer_.reserve(kReadBytes);
}

void MetricsConnection::fetch(std::chrono::milliseconds timeout, Done done) {
  done_ = std::move(done);
  ++generation_;
  deadline_ = std::chrono::steady_clock::now() + timeout;
  stream_.expires_at(deadline_);
  reused_ = open_;
  if (open_)
    send();
  else
    connect();
}

void MetricsConnection::close() {
  done_ = nullptr;
  ++generation_;  // the handlers still queued see a fetch that is over
  reset();
}

void MetricsConnection::connect() {
  ++opened_;
  stream_.async_connect(engine_, [self = shared_from_this(), gen = generation_](error_code ec) {
    if (gen != self->generation_) return;
    if (ec) return self->finish(ec);
    self->open_ = true;
    self->send();
  });
}

void MetricsConnection::send() {
  parser_.emplace();
  parser_->body_limit(kMaxMetricsBytes);
  bhttp::async_write(stream_, request_, [self = shared_from_this(), gen = generation_](error_code ec, std::size_t) {
    if (gen != self->generation_) return;
    if (ec) return self->finish(ec);
    bhttp::async_read(self->stream_, self->buffer_, *self->parser_, [self, gen](error_code ec, std::size_t) {
      if (gen == self->generation_) self->finish(ec);
    });
  });
}

void MetricsConnection::finish(error_code ec) {
  if (ec && reused_ && ec != beast::error::timeout && !(parser_ && parser_->got_some())) {
    // The engine closed the kept connection while it was idle: not an answer, try a new one.
    reset();
    reused_ = false;
    stream_.expires_at(deadline_);
    return connect();
  }
  std::optional<std::string> body;
  bool keep = false;
  if (!ec && parser_ && parser_->is_done()) {
    auto& response = parser_->get();
    if (response.result_int() == 200) body = std::move(response.body());
    // Bytes after the answer were not asked for: the connection is not trusted with another.
    keep = parser_->keep_alive() && buffer_.size() == 0;
  }
  if (keep)
    stream_.expires_never();
  else
    reset();
  parser_.reset();
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(body));
}

void MetricsConnection::reset() {
  stream_.close();
  buffer_.clear();
  open_ = false;
}

}  // namespace duet::router
