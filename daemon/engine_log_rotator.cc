#include "daemon/engine_log_rotator.h"

#include "daemon/daemon_logger.h"

namespace duet::daemon {

namespace {
constexpr std::chrono::seconds kRound{10};
}  // namespace

EngineLogRotator::EngineLogRotator(boost::asio::io_context& io, engine::LogRotation rotation,
                                   LogFiles log_files)
    : timer_(io), rotation_(rotation), log_files_(std::move(log_files)) {}

void EngineLogRotator::start() { schedule(); }

void EngineLogRotator::stop() { timer_.cancel(); }

void EngineLogRotator::schedule() {
  timer_.expires_after(kRound);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    for (const auto& path : log_files_())
      if (engine::rotate_if_larger(path, rotation_))
        reconcile_logger().info("engine_log_rotated", {{"log", path}});
    schedule();
  });
}

}  // namespace duet::daemon
