#include "engine/instance/exit_watch.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "engine/instance/process.h"

namespace duet::engine {

namespace {
constexpr std::chrono::milliseconds kProcPollEvery{500};

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}
}  // namespace

ExitWatch::ExitWatch(boost::asio::any_io_executor ex, pid_t pid, uint64_t start_time)
    : pid_(pid), start_time_(start_time), pidfd_(ex), poll_timer_(ex) {}

ExitWatch::~ExitWatch() { stop(); }

void ExitWatch::start(std::function<void()> on_exit) {
  on_exit_ = std::move(on_exit);
  int fd = open_pidfd(pid_);
  // The pid may have been reused between the start-time check and pidfd_open: check again
  // now that the descriptor pins the process.
  if (fd >= 0 && alive()) {
    pidfd_.assign(fd);
    return wait_pidfd();
  }
  if (fd >= 0) ::close(fd);
  poll_proc();
}

void ExitWatch::wait_pidfd() {
  pidfd_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                    [weak = weak_from_this()](boost::system::error_code ec) {
                      auto self = weak.lock();
                      if (!ec && self) self->fire();
                    });
}

void ExitWatch::poll_proc() {
  if (!alive()) return fire();
  poll_timer_.expires_after(kProcPollEvery);
  poll_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self) self->poll_proc();
  });
}

bool ExitWatch::alive() const { return process_running(pid_, start_time_); }

void ExitWatch::fire() {
  auto callback = std::move(on_exit_);
  stop();
  if (callback) callback();
}

void ExitWatch::stop() {
  on_exit_ = nullptr;
  poll_timer_.cancel();
  boost::system::error_code ignored;
  if (pidfd_.is_open()) pidfd_.close(ignored);
}

}  // namespace duet::engine
