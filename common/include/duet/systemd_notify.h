#pragma once
// systemd's readiness protocol (sd_notify(3)) for duetd and duet-router under Type=notify:
// READY=1, STATUS=, RELOADING=1, STOPPING=1 and the WatchdogSec= keep-alive. Every call is a
// no-op when systemd did not start the process (NOTIFY_SOCKET unset), as in tests and demos.

#include <chrono>
#include <memory>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace duet {

namespace detail {
struct WatchdogTimer;
}

class SystemdNotify {
 public:
  SystemdNotify() = default;
  // Stops the watchdog timer. The io_context given to start_watchdog must outlive this object
  // or have stopped running.
  ~SystemdNotify();
  SystemdNotify(const SystemdNotify&) = delete;
  SystemdNotify& operator=(const SystemdNotify&) = delete;

  // Whether a service manager listens (NOTIFY_SOCKET is set).
  static bool enabled();

  // Each returns whether the message was sent: false when nobody listens or sending failed
  // (logged once per process, so a broken socket does not flood the journal).
  //
  // READY=1, with a STATUS= line when `status` is not empty: startup is complete (for duetd:
  // checkpoint loaded and the API listens). Also ends a reload begun by reloading().
  bool ready(std::string_view status = {}) const;
  // MAINPID=`pid`: sent by the main process, that process is the service's main process from
  // now on (duet-router's reload hands over to the successor it started).
  bool main_pid(int pid) const;
  // STATUS=: the one line `systemctl status` shows. Newlines become spaces.
  bool status(std::string_view text) const;
  // RELOADING=1 with MONOTONIC_USEC= (which Type=notify-reload of systemd >= 253 requires and
  // older versions ignore); send ready() when the new configuration is in use.
  bool reloading() const;
  // STOPPING=1: shutdown has begun.
  bool stopping() const;
  // One WATCHDOG=1 keep-alive.
  bool watchdog() const;

  // When the unit sets WatchdogSec= (sd_watchdog_enabled(3): WATCHDOG_USEC set and
  // WATCHDOG_PID, if set, is this process) and a manager listens, sends WATCHDOG=1 now and
  // then every half of that interval from a timer on `io`. The pings come from the loop
  // itself, so a loop that hangs stops them and systemd restarts the service. Returns the
  // interval between pings, zero when there is no watchdog. Call once, from io's thread or
  // before io runs.
  std::chrono::microseconds start_watchdog(boost::asio::io_context& io);
  // Ends the pings; the timer holds no work on `io` afterwards. Safe from any thread.
  void stop_watchdog();

 private:
  std::weak_ptr<detail::WatchdogTimer> watchdog_;
};

}  // namespace duet
