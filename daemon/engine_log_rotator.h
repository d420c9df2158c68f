#pragma once
// Rotates the replicas' log files by size every 10 s (engine/instance/log_rotation.h), apart
// from the reconcile loop: which files exist is asked of the Reconciler each round.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>
#include <vector>

#include "engine/instance/log_rotation.h"

namespace duet::daemon {

class EngineLogRotator {
 public:
  using LogFiles = std::function<std::vector<std::string>()>;

  EngineLogRotator(boost::asio::io_context& io, engine::LogRotation rotation, LogFiles log_files);

  void start();
  void stop();

 private:
  void schedule();

  boost::asio::steady_timer timer_;
  engine::LogRotation rotation_;
  LogFiles log_files_;
};

}  // namespace duet::daemon
