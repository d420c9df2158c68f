// duetd: the node daemon. Runs one Node on one io_context, with signals around it; the
// logic lives in the daemon library.

#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>

#include "daemon/daemon_options.h"
#include "daemon/node.h"
#include "daemon/node_checkpoint.h"
#include "duet/common/log.h"
#include "duet/common/standard_flags.h"
#include "duet/systemd_notify.h"

using namespace duet;
using namespace duet::daemon;

namespace {

void wait_for_children(boost::asio::signal_set& sigchld, Node& node) {
  sigchld.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) node.on_child_exit(pid, status);
    wait_for_children(sigchld, node);
  });
}

// SIGHUP (systemctl reload): reads the config file again; the flags given at start still win.
void wait_for_reload(boost::asio::signal_set& sighup, Node& node, const std::vector<std::string>& args,
                     const SystemdNotify& systemd) {
  sighup.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    systemd.reloading();
    try {
      node.reload(parse_daemon_options(args));
    } catch (const std::exception& e) {
      Logger("duetd").error("reload_failed", {{"error", e.what()}});  // the old settings stay
    }
    systemd.ready(node.status_line());
    wait_for_reload(sighup, node, args, systemd);
  });
}

// STATUS= for `systemctl status duetd`, refreshed every few seconds.
void report_status(boost::asio::steady_timer& timer, const Node& node, const SystemdNotify& systemd) {
  systemd.status(node.status_line());
  timer.expires_after(std::chrono::seconds(5));
  timer.async_wait([&](boost::system::error_code ec) {
    if (!ec) report_status(timer, node, systemd);
  });
}

int run(const std::vector<std::string>& args, const DaemonOptions& options) {
  Logger log("duetd");
  Logger::set_min_level(Logger::parse_level(options.log_level));
  boost::asio::io_context io(1);
  SystemdNotify systemd;
  Node node(io, options);
  boost::asio::signal_set sigchld(io, SIGCHLD);
  wait_for_children(sigchld, node);
  // Every signal is caught before start() listens: a SIGHUP sent as soon as the API answers
  // (logrotate, `systemctl reload`) would otherwise end duetd by its default action. The
  // handlers run from io.run(), once start() is done.
  boost::asio::signal_set sighup(io, SIGHUP);
  boost::asio::signal_set stop(io, SIGTERM, SIGINT);
  try {
    node.start();
  } catch (...) {
    node.stop();  // what start made on the host (an empty cgroup root) goes with it
    throw;
  }
  // Ready once the checkpoint is loaded, engines adopted and the API listens (SPEC §8).
  systemd.ready(node.status_line());
  systemd.start_watchdog(io);
  boost::asio::steady_timer status_timer(io);
  if (SystemdNotify::enabled()) report_status(status_timer, node, systemd);
  wait_for_reload(sighup, node, args, systemd);

  // Like kubelet, stopping duetd leaves the engines running (SPEC §1).
  stop.async_wait([&](boost::system::error_code, int signal) {
    log.info("stopping", {{"signal", signal}});
    systemd.stopping();
    systemd.stop_watchdog();
    node.stop();
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (auto done = answer_standard_flags(argc, argv, "duetd", daemon_usage())) return *done;
  std::vector<std::string> args(argv + 1, argv + argc);
  DaemonOptions options;
  try {
    options = parse_daemon_options(args);
  } catch (const std::invalid_argument& e) {
    std::cerr << "duetd: " << e.what() << "\n" << daemon_usage();
    return 2;
  }
  try {
    return run(args, options);
  } catch (const StateLost& e) {
    std::cerr << "duetd: " << e.what() << "\n";
    return kStateLostExit;
  } catch (const std::exception& e) {
    std::cerr << "duetd: " << e.what() << "\n";
    return 1;
  }
}
