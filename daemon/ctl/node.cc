// `duetctl cordon|uncordon|drain` (host maintenance, as kubectl's): cordon stops placing
// replicas on the node, uncordon lets them be placed again, drain cordons and drains every
// running replica, then waits until none runs.
#include <chrono>
#include <iostream>
#include <thread>

#include "daemon/ctl/api_call.h"
#include "daemon/ctl/commands.h"

namespace duet::ctl {

namespace bhttp = http::bhttp;

namespace {
constexpr std::chrono::milliseconds kPoll{500};
}

int node(const Context& ctx, const std::string& action, std::chrono::seconds timeout) {
  try {
    auto reply = call(ctx, bhttp::verb::post, api_target({"node", action}));
    if (action != "drain") {
      std::cout << "node " << action << "ed\n";
      return 0;
    }
    int running = reply.value("runningReplicas", 0);
    std::cout << "node cordoned; " << running << " replica(s) draining\n";
    auto deadline = std::chrono::steady_clock::now() + timeout;
    // Polled, not watched: one small GET a half second for the minutes a drain may take.
    while (running > 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        std::cerr << "error: " << running << " replica(s) still running after " << timeout.count()
                  << " s; the drain goes on (duetctl get engines)\n";
        return 1;
      }
      std::this_thread::sleep_for(kPoll);
      running = call(ctx, bhttp::verb::get, api_target({"node"})).value("runningReplicas", 0);
    }
    std::cout << "node drained\n";
    return 0;
  } catch (const ApiFailure& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace duet::ctl
