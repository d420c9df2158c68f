#pragma once
// A real duetd for integration tests: its own state dir and unix socket in a TempDir, engines
// found on PATH in this build's bin/, and helpers to call its API and wait on its state.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "duet/common/address.h"
#include "duet/common/http_client.h"
#include "support/child_process.h"
#include "support/temp_dir.h"

namespace duet::test {

// What a finished command printed and how it ended.
struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs a command to completion (at most `timeout`), its output captured.
CommandResult run_command(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
                          std::chrono::milliseconds timeout = 30s);

// A cpu RuntimeClass and an EngineDeployment `name` of duet-sim replicas, Ready on /health.
// `extra_args` go on the sim's command line (", --fail-rate, \"1\""), `extra_template` into
// the template (indented four spaces, e.g. a livenessProbe line).
std::string sim_deployment_yaml(const std::string& name, int replicas, const std::string& extra_args = "",
                                const std::string& extra_template = "");

// The value of `key` (root, memory, pids) on duetd's `event=engine_cgroups` log line; empty
// when the line or the key is not there.
std::string engine_cgroups_field(const std::string& log, const std::string& key);

class DuetdHarness {
 public:
  // `env` is added to duetd's environment (NOTIFY_SOCKET...).
  explicit DuetdHarness(std::vector<std::string> extra_args = {},
                        std::map<std::string, std::string> env = {});
  // Stops every duetd it started with their sessions, then kills what is left in the
  // replicas' cgroups (what left the session) and removes them.
  ~DuetdHarness();

  // Sends `signal` to duetd, waits for it to end, runs `while_stopped` (e.g. to wipe the
  // state dir), and starts a new one on the same state dir and socket. The old one's session
  // (its engines) is killed when the harness goes away.
  void restart(int signal, const std::function<void()>& while_stopped = {});

  const Address& api() const { return api_; }
  const TempDir& dir() const { return dir_; }
  ChildProcess& process() { return *process_; }

  // GET on the node API; the parsed JSON body (null when it is not JSON).
  nlohmann::json get(const std::string& target);
  http::ClientResponse request(http::bhttp::verb method, const std::string& target,
                               std::string body = {});
  // Writes `text` to `name` in the harness's dir; returns the path.
  std::string write(const std::string& name, const std::string& text) const;
  // `duetctl --server <api> ARGS...`
  CommandResult duetctl(std::vector<std::string> args);
  // Engines of `deployment` in state Ready, by the API.
  int ready_engines(const std::string& deployment);
  // The port duetd logged for its (first) tcp:// listener.
  uint16_t tcp_api_port();
  // The replicas' cgroup root duetd logged; empty when it fell back to process groups.
  std::string cgroup_root();
  // Where duetd puts `controller`'s (memory, pids) limits: "v2", a cgroup v1 folder, or "none".
  std::string cgroup_place(const std::string& controller);

 private:
  void start();

  TempDir dir_;
  Address api_;
  std::vector<std::string> argv_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<ChildProcess> process_;
  std::vector<std::unique_ptr<ChildProcess>> retired_;  // earlier duetds of this harness
};

}  // namespace duet::test
