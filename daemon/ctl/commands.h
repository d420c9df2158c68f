#pragma once
// duetctl's commands (SPEC §7). Each returns the process exit code: 0 ok, 1 error, 2 usage.

#include <chrono>
#include <string>
#include <vector>

#include "duet/common/address.h"
#include "duet/common/http_client.h"
#include "duet/common/standard_flags.h"

namespace duet::ctl {

struct Context {
  Address server;
  std::string output;  // "", wide, json, yaml
  std::string token;   // bearer JWT for a TCP node API (--token-file or $DUET_TOKEN)
  http::TlsContext tls;  // an https server's CA (and client certificate); null: not https
};

int apply(const Context& ctx, const std::vector<std::string>& files);
int get(const Context& ctx, const std::string& resource, const std::string& name);
int remove(const Context& ctx, const std::string& resource, const std::string& name);
// `delete -f FILE|DIR|-`: every object the files name, Routes first so nothing is in use.
int remove_files(const Context& ctx, const std::vector<std::string>& files);
struct TokenRequest {
  std::string subject, ttl = "1h", secret_file, issuer, audience;
  std::vector<std::string> scopes;  // --scope, repeatable or comma-separated
};
// Prints a signed HS256 token; no server is involved.
int token_create(const TokenRequest& request);
int describe(const Context& ctx, const std::string& resource, const std::string& name);
int logs(const Context& ctx, const std::string& replica, bool follow, const std::string& tail);
// action: status (with `watch`, until the rollout is finished), promote, abort, retry.
int rollout(const Context& ctx, const std::string& action, const std::string& name, bool watch);
struct ProxyOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8001;  // 0: any free port (printed)
  std::vector<std::string> accept_hosts;  // more names the Host header may give
  bool allow_remote = false;  // listen beyond loopback
  bool dashboard = false;     // `duetctl dashboard`: print the dashboard's URL too
};
// Serves the node API and the dashboard until SIGINT or SIGTERM (proxy.cc).
int proxy(const Context& ctx, const ProxyOptions& options);
// action: cordon, uncordon, drain (which waits up to `timeout` until no replica runs).
int node(const Context& ctx, const std::string& action, std::chrono::seconds timeout);

}  // namespace duet::ctl
