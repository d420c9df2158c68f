// duet-router: flags and config in, exit status out; the work is in Router.

#include <csignal>
#include <iostream>

#include "duet/common/standard_flags.h"
#include "router/command_line.h"
#include "router/router.h"
#include "router/router_logger.h"

int main(int argc, char** argv) {
  using namespace duet::router;
  if (auto done = duet::answer_standard_flags(argc, argv, "duet-router", usage())) return *done;
  std::signal(SIGPIPE, SIG_IGN);
  CommandLine line;
  try {
    line = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (line.help) {
      std::cout << usage();
      return 0;
    }
    duet::Logger::set_min_level(duet::Logger::parse_level(line.log_level));
    check_startable(line.config);
  } catch (const std::exception& e) {  // UsageError, ConfigError, a bad --log-level
    std::cerr << "duet-router: " << e.what() << "\n";
    return 2;
  }
  if (line.check_config) {
    std::cout << "configuration ok: " << line.config.listen.size() << " listener(s), "
              << line.config.sources.size() << " source(s), " << line.config.worker_threads()
              << " thread(s)\n";
    return 0;
  }
  try {
    // A reload's successor serves on its predecessor's sockets (handover.h).
    RouterLaunch launch{own_program_path(), std::vector<std::string>(argv + 1, argv + argc),
                        inherit_from_predecessor()};
    Router router(std::move(line.config), std::move(launch));
    return router.run();
  } catch (const std::exception& e) {
    router_logger().error("start_failed", {{"error", e.what()}});
    return 1;
  }
}
