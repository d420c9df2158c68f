#pragma once
// duetd's command line.

#include <string>
#include <vector>

namespace duet::daemon {

struct DaemonOptions {
  std::vector<std::string> api;          // --api unix:PATH | tcp://ADDR (repeatable)
  std::string state_dir = "/var/lib/duet";
  std::string port_range = "20000-20999";
  std::string log_level = "info";
  std::string dev_root = "/dev";  // every device path is read under these (tests: a fake tree)
  std::string sys_root = "/sys";
  std::string proc_root = "/proc";
};

// Throws std::invalid_argument naming the flag; `--help` text is usage().
DaemonOptions parse_daemon_options(int argc, char** argv);
const char* daemon_usage();

}  // namespace duet::daemon
