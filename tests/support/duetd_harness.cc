#include "support/duetd_harness.h"

#include "engine/instance/replica_cgroup.h"

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

std::string sim_deployment_yaml(const std::string& name, int replicas, const std::string& extra_args,
                                const std::string& extra_template) {
  return "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: cpu}\nhandler: cpu\n---\n"
         "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: " + name + "}\nspec:\n"
         "  runtimeClassName: cpu\n  replicas: " + std::to_string(replicas) + "\n  version: v1\n"
         "  template:\n    command: [duet-sim, --port, \"${PORT}\"" + extra_args + "]\n"
         "    readinessProbe: {httpGet: {path: /health}, periodSeconds: 1}\n"
         "    terminationGracePeriodSeconds: 5\n" + extra_template;
}

std::string DuetdHarness::write(const std::string& name, const std::string& text) const {
  auto path = (dir_ / name).string();
  std::ofstream(path) << text;
  return path;
}

DuetdHarness::DuetdHarness(std::vector<std::string> extra_args, std::map<std::string, std::string> env)
    : env_(std::move(env)) {
  api_ = Address::parse("unix:" + (dir_ / "duetd.sock").string());
  // Tests run in parallel, one process each: a range of its own per process keeps two duetds
  // from handing the same port to engines that are about to bind it. All ranges stay below
  // the kernel's ephemeral ports (32768 and up): another test's outgoing connection could
  // hold an engine's port there, and the engine would fail to bind it on every restart.
  int first = 20000 + (::getpid() % 60) * 200;
  argv_ = {bin("duetd"), "--api", api_.to_string(), "--state-dir", (dir_ / "state").string(),
           "--port-range", std::to_string(first) + "-" + std::to_string(first + 199)};
  argv_.insert(argv_.end(), extra_args.begin(), extra_args.end());
  start();
}

void DuetdHarness::start() {
  const char* path = std::getenv("PATH");
  auto env = env_;
  env["PATH"] = std::string(DUET_BIN_DIR) + ":" + (path ? path : "/usr/bin:/bin");
  process_ = std::make_unique<ChildProcess>(
      argv_, env,
      (dir_ / ("duetd-" + std::to_string(retired_.size()) + ".log")).string());
  if (!process_->wait_for_output("event=listening", 20s))
    throw std::runtime_error("duetd did not start: " + process_->output());
}

void DuetdHarness::restart(int signal, const std::function<void()>& while_stopped) {
  process_->signal(signal);
  if (process_->wait(20s) == -1) throw std::runtime_error("duetd did not stop on signal " + std::to_string(signal));
  retired_.push_back(std::move(process_));
  if (while_stopped) while_stopped();
  start();
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

DuetdHarness::~DuetdHarness() {
  std::string root = cgroup_root();
  auto limit_roots = {cgroup_place("memory"), cgroup_place("pids")};
  process_.reset();
  retired_.clear();
  if (root.empty()) return;
  engine::CgroupRoot cgroups{root, {}};
  for (const auto& name : cgroups.replicas()) {
    auto cgroup = cgroups.replica(name);
    // Killed again on every try: a child duetd forked just before it stopped may join the
    // cgroup after the first kill (it moves itself in before exec) and would live on there.
    eventually([&] {
      engine::kill_cgroup(cgroup);
      return engine::remove_cgroup(cgroup);
    }, 5s);
  }
  engine::remove_cgroup(root);
  for (const auto& folder : limit_roots) {
    if (!folder.starts_with("/")) continue;  // v2 or none
    engine::CgroupRoot v1{folder, {}};
    for (const auto& name : v1.replicas())
      eventually([&] { return engine::remove_cgroup(v1.replica(name)); }, 5s);
    engine::remove_cgroup(folder);
  }
}

std::string engine_cgroups_field(const std::string& log, const std::string& key) {
  auto line = log.find("event=engine_cgroups ");
  if (line == std::string::npos) return {};
  auto end = log.find('\n', line);
  auto at = log.find(" " + key + "=", line);
  if (at == std::string::npos || at > end) return {};
  at += key.size() + 2;
  return log.substr(at, log.find_first_of(" \n", at) - at);
}

std::string DuetdHarness::cgroup_root() {
  auto root = engine_cgroups_field(process_->output(), "root");
  return root == "none" ? std::string() : root;
}

std::string DuetdHarness::cgroup_place(const std::string& controller) {
  auto place = engine_cgroups_field(process_->output(), controller);
  return place.empty() ? "none" : place;
}

uint16_t DuetdHarness::tcp_api_port() {
  // The unix socket may answer before the tcp listener's line is read from duetd's output;
  // without it, the last "port=" would be the unix line's 0.
  process_->wait_for_output("auth=jwt");
  auto log = process_->output();
  auto line = log.find("auth=jwt");
  auto at = log.rfind("port=", line);
  return static_cast<uint16_t>(std::stoi(log.substr(at + 5)));
}

int DuetdHarness::ready_engines(const std::string& deployment) {
  int ready = 0;
  auto engines = get("/apis/v1/engines");  // a range-for over a temporary's member dangles
  for (const auto& e : engines["items"])
    if (e["deployment"] == deployment && e["state"] == "Ready") ++ready;
  return ready;
}

}  // namespace duet::test
