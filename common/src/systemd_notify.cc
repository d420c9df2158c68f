#include "duet/systemd_notify.h"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "duet/common/log.h"

namespace duet {

namespace asio = boost::asio;

namespace {

const Logger& systemd_logger() {
  static const Logger log("systemd");
  return log;
}

bool send(const std::string& message) {
  if (!SystemdNotify::enabled()) return false;
  int r = sd_notify(0, message.c_str());
  if (r > 0) return true;
  static std::atomic<bool> reported{false};
  if (!reported.exchange(true))
    systemd_logger().warn("notify_failed", {{"error", r < 0 ? std::strerror(-r) : "not sent"}});
  return false;
}

// STATUS= ends at the first newline; one line is what `systemctl status` shows anyway.
std::string one_line(std::string_view text) {
  std::string line(text);
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  return line;
}

}  // namespace

// The pinging timer, shared by the handler chain (which keeps it alive while a wait is
// pending) and, weakly, by SystemdNotify (which stops it): destroying the notifier never
// leaves a handler pointing at freed memory, whatever the io_context is doing.
namespace detail {

struct WatchdogTimer {
  WatchdogTimer(asio::io_context& io, std::chrono::microseconds every)
      : timer(io), interval(every) {}
  asio::steady_timer timer;
  std::chrono::microseconds interval;
  std::atomic<bool> stopped{false};
};

}  // namespace detail

namespace {

void schedule_ping(const std::shared_ptr<detail::WatchdogTimer>& w);

void ping(const std::shared_ptr<detail::WatchdogTimer>& w) {
  if (w->stopped) return;
  send("WATCHDOG=1");
  schedule_ping(w);
}

void schedule_ping(const std::shared_ptr<detail::WatchdogTimer>& w) {
  // From the previous deadline, not from now: a slow handler does not make the pings drift.
  w->timer.expires_at(w->timer.expiry() + w->interval);
  w->timer.async_wait([w](boost::system::error_code ec) {
    if (!ec) ping(w);
  });
}

}  // namespace

SystemdNotify::~SystemdNotify() { stop_watchdog(); }

bool SystemdNotify::enabled() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return socket != nullptr && *socket != '\0';
}

bool SystemdNotify::ready(std::string_view status) const {
  if (status.empty()) return send("READY=1");
  return send("READY=1\nSTATUS=" + one_line(status));
}

bool SystemdNotify::main_pid(int pid) const { return send("MAINPID=" + std::to_string(pid)); }

bool SystemdNotify::status(std::string_view text) const { return send("STATUS=" + one_line(text)); }

bool SystemdNotify::reloading() const {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  auto usec = static_cast<unsigned long long>(now.tv_sec) * 1'000'000ull +
              static_cast<unsigned long long>(now.tv_nsec) / 1000ull;
  return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

bool SystemdNotify::stopping() const { return send("STOPPING=1"); }

bool SystemdNotify::watchdog() const { return send("WATCHDOG=1"); }

std::chrono::microseconds SystemdNotify::start_watchdog(asio::io_context& io) {
  uint64_t usec = 0;
  if (!enabled() || sd_watchdog_enabled(0, &usec) <= 0 || usec < 2) return {};
  stop_watchdog();
  auto w = std::make_shared<detail::WatchdogTimer>(io, std::chrono::microseconds(usec / 2));
  watchdog_ = w;
  systemd_logger().info("watchdog", {{"ping_every_ms", w->interval.count() / 1000}});
  w->timer.expires_at(asio::steady_timer::clock_type::now());
  ping(w);  // at once: the first deadline counts from the start of the unit
  return w->interval;
}

void SystemdNotify::stop_watchdog() {
  auto w = watchdog_.lock();
  if (!w) return;
  w->stopped = true;
  // The timer is only touched on its own io_context: cancel there, so a wait pending now
  // completes at once instead of at its deadline.
  asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
  watchdog_.reset();
}

}  // namespace duet
