// duet-sim: a simulated OpenAI-compatible engine. See engine/README.md and `duet-sim --help`.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "duet/common/standard_flags.h"
#include "sim/sim_server.h"

namespace {

std::optional<std::string> getenv_lookup(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace duet::sim;
  if (auto done = duet::answer_standard_flags(argc, argv, "duet-sim", usage())) return *done;
  SimOptions options;
  try {
    options = parse_options(std::vector<std::string>(argv + 1, argv + argc), getenv_lookup);
  } catch (const duet::UsageError& e) {
    std::fprintf(stderr, "duet-sim: %s\n", e.what());
    return 2;
  }
  if (options.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  duet::Logger::set_min_level(duet::Logger::parse_level(options.log_level));
  duet::Logger log("sim");

  boost::asio::io_context io(static_cast<int>(options.threads));
  SimServer sim(io, options);
  // Caught before the port opens, so that a stop sent as soon as it answers is a clean stop.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  try {
    sim.listen();
  } catch (const std::exception& e) {
    log.error("listen_failed", {{"error", e.what()}});
    return 1;
  }
  // The first signal stops gracefully, as a real engine does (what is in flight finishes,
  // up to --shutdown-timeout-ms); a second one stops at once.
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    log.info("stopping", {{"signal", signal}});
    sim.stop_gracefully([&io] { io.stop(); });
    signals.async_wait([&](boost::system::error_code again, int) {
      if (again) return;
      sim.stop();
      io.stop();
    });
  });

  std::vector<std::thread> extra;
  for (unsigned i = 1; i < options.threads; ++i) extra.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : extra) t.join();
  log.info("stopped");
  return 0;
}
