#pragma once
// An HTTP probe of an engine (readiness or liveness, as in kubelet): a GET every period,
// healthy on 2xx/3xx, unhealthy after `failure_threshold` failures in a row. It reports
// only changes, on the executor it was created with.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>

#include "duet/common/address.h"

namespace duet::engine {

struct ProbeSpec {
  std::string path = "/health";
  int period_seconds = 2;
  int timeout_seconds = 1;
  int failure_threshold = 3;
  int initial_delay_seconds = 0;
};

class HttpProber : public std::enable_shared_from_this<HttpProber> {
 public:
  using OnChange = std::function<void(bool healthy)>;

  // `healthy` is where it starts: false for readiness (not ready until a probe passes),
  // true for liveness (alive until it fails `failure_threshold` times).
  HttpProber(boost::asio::any_io_executor ex, Address target, ProbeSpec spec, bool healthy,
             OnChange on_change);

  void start();
  // No callback runs after stop().
  void stop();
  bool healthy() const { return healthy_; }

 private:
  void schedule(std::chrono::milliseconds delay);
  void probe();
  void on_result(bool ok);

  boost::asio::any_io_executor executor_;
  boost::asio::steady_timer timer_;
  Address target_;
  ProbeSpec spec_;
  bool healthy_;
  int failures_ = 0;
  // A probe that starts unhealthy (readiness) probes every 100 ms until its first success, so
  // apply → Ready is not held back by a whole period (SPEC §9: ≤ 1 s); after that the
  // configured period applies. One that starts healthy (liveness) keeps its period from the
  // start, as kubelet's does: three failures 100 ms apart would kill every engine that takes
  // more than 300 ms to open its port.
  bool ever_healthy_;
  bool stopped_ = false;
  OnChange on_change_;
};

}  // namespace duet::engine
