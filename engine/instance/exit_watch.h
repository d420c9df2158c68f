#pragma once
// Tells when a process that is not our child ends: an engine adopted after a duetd restart
// belongs to init now, so no SIGCHLD comes for it. Uses a pidfd (Linux 5.3+), which turns
// readable when the process exits; where pidfd_open is missing, polls /proc every 500 ms.

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>

namespace duet::engine {

class ExitWatch : public std::enable_shared_from_this<ExitWatch> {
 public:
  // `start_time` (from /proc/PID/stat) tells our process from a later one with its pid.
  ExitWatch(boost::asio::any_io_executor ex, pid_t pid, uint64_t start_time);
  ~ExitWatch();

  // `on_exit` runs once, on the executor, when the process is gone.
  void start(std::function<void()> on_exit);
  // No callback runs after stop().
  void stop();

 private:
  void wait_pidfd();
  void poll_proc();
  bool alive() const;
  void fire();

  pid_t pid_;
  uint64_t start_time_;
  boost::asio::posix::stream_descriptor pidfd_;
  boost::asio::steady_timer poll_timer_;
  std::function<void()> on_exit_;
};

}  // namespace duet::engine
