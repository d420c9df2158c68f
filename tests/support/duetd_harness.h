#pragma once
// A real duetd for integration tests: its own state dir and unix socket in a TempDir, engines
// found on PATH in this build's bin/, and helpers to call its API and wait on its state.

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

class DuetdHarness {
 public:
  explicit DuetdHarness(std::vector<std::string> extra_args = {});

  const Address& api() const { return api_; }
  const TempDir& dir() const { return dir_; }
  ChildProcess& process() { return *process_; }

  // GET on the node API; the parsed JSON body (null when it is not JSON).
  nlohmann::json get(const std::string& target);
  http::ClientResponse request(http::bhttp::verb method, const std::string& target,
                               std::string body = {});
  // `duetctl --server <api> ARGS...`
  CommandResult duetctl(std::vector<std::string> args);
  // Engines of `deployment` in state Ready, by the API.
  int ready_engines(const std::string& deployment);

 private:
  TempDir dir_;
  Address api_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace duet::test
