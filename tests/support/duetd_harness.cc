#include "support/duetd_harness.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace duet::test {

CommandResult run_command(std::vector<std::string> argv, std::map<std::string, std::string> env,
                          std::chrono::milliseconds timeout) {
  TempDir dir;
  auto log = (dir / "out").string();
  CommandResult result;
  {
    ChildProcess p(std::move(argv), std::move(env), log);
    int status = p.wait(timeout);
    result.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = p.output();
  }
  return result;
}

DuetdHarness::DuetdHarness(std::vector<std::string> extra_args) {
  api_ = Address::parse("unix:" + (dir_ / "duetd.sock").string());
  // Tests run in parallel, one process each: a range of its own per process keeps two duetds
  // from handing the same port to engines that are about to bind it.
  int first = 30000 + (::getpid() % 100) * 200;
  std::vector<std::string> argv = {bin("duetd"), "--api", api_.to_string(), "--state-dir",
                                   (dir_ / "state").string(), "--port-range",
                                   std::to_string(first) + "-" + std::to_string(first + 199)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  const char* path = std::getenv("PATH");
  process_ = std::make_unique<ChildProcess>(
      argv, std::map<std::string, std::string>{{"PATH", std::string(DUET_BIN_DIR) + ":" + (path ? path : "/usr/bin:/bin")}},
      (dir_ / "duetd.log").string());
  if (!process_->wait_for_output("event=listening", 20s))
    throw std::runtime_error("duetd did not start: " + process_->output());
}

http::ClientResponse DuetdHarness::request(http::bhttp::verb method, const std::string& target,
                                           std::string body) {
  return http::fetch_sync(api_, http::make_request(method, target, api_, std::move(body)), 10s);
}

nlohmann::json DuetdHarness::get(const std::string& target) {
  return nlohmann::json::parse(request(http::bhttp::verb::get, target).body(), nullptr, false);
}

CommandResult DuetdHarness::duetctl(std::vector<std::string> args) {
  std::vector<std::string> argv = {bin("duetctl"), "--server", api_.to_string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

int DuetdHarness::ready_engines(const std::string& deployment) {
  int ready = 0;
  auto engines = get("/apis/v1/engines");  // a range-for over a temporary's member dangles
  for (const auto& e : engines["items"])
    if (e["deployment"] == deployment && e["state"] == "Ready") ++ready;
  return ready;
}

}  // namespace duet::test
