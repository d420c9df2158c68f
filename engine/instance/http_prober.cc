#include "engine/instance/http_prober.h"

#include "duet/common/http_client.h"

namespace duet::engine {

using namespace std::chrono;

HttpProber::HttpProber(boost::asio::any_io_executor ex, Address target, ProbeSpec spec,
                       bool healthy, OnChange on_change)
    : executor_(ex),
      timer_(ex),
      target_(std::move(target)),
      spec_(std::move(spec)),
      healthy_(healthy),
      ever_healthy_(healthy),
      on_change_(std::move(on_change)) {}

void HttpProber::start() {
  schedule(seconds(spec_.initial_delay_seconds));
}

void HttpProber::stop() {
  stopped_ = true;
  timer_.cancel();
}

void HttpProber::schedule(milliseconds delay) {
  if (stopped_) return;
  timer_.expires_after(delay);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self && !self->stopped_) self->probe();
  });
}

void HttpProber::probe() {
  auto request = http::make_request(http::bhttp::verb::get, spec_.path, target_);
  http::ClientCall::fetch(executor_, target_, std::move(request), seconds(spec_.timeout_seconds),
                          [weak = weak_from_this()](http::error_code ec, http::ClientResponse res) {
                            auto self = weak.lock();
                            if (!self || self->stopped_) return;
                            int status = res.result_int();
                            self->on_result(!ec && status >= 200 && status < 400);
                          });
}

void HttpProber::on_result(bool ok) {
  failures_ = ok ? 0 : failures_ + 1;
  ever_healthy_ = ever_healthy_ || ok;
  bool now = ok ? true : (failures_ >= spec_.failure_threshold ? false : healthy_);
  if (now != healthy_) {
    healthy_ = now;
    on_change_(now);
  }
  if (stopped_) return;
  schedule(ever_healthy_ ? seconds(spec_.period_seconds) : milliseconds(100));
}

}  // namespace duet::engine
