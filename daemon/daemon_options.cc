#include "daemon/daemon_options.h"

#include <stdexcept>
#include <string_view>

namespace duet::daemon {

const char* daemon_usage() {
  return "usage: duetd [--api unix:PATH|tcp://ADDR]... [--state-dir DIR]\n"
         "             [--port-range FIRST-LAST] [--log-level debug|info|warn|error]\n"
         "             [--dev-root DIR] [--sys-root DIR] [--proc-root DIR]\n";
}

DaemonOptions parse_daemon_options(int argc, char** argv) {
  DaemonOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + ": missing value");
      return argv[++i];
    };
    if (flag == "--api")
      o.api.push_back(value());
    else if (flag == "--state-dir")
      o.state_dir = value();
    else if (flag == "--port-range")
      o.port_range = value();
    else if (flag == "--log-level")
      o.log_level = value();
    else if (flag == "--dev-root")
      o.dev_root = value();
    else if (flag == "--sys-root")
      o.sys_root = value();
    else if (flag == "--proc-root")
      o.proc_root = value();
    else
      throw std::invalid_argument("unknown flag " + std::string(flag));
  }
  if (o.api.empty()) o.api.push_back("unix:/run/duet/duetd.sock");
  return o;
}

}  // namespace duet::daemon
