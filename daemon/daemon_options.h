#pragma once
// duetd's settings: defaults, then the config file (`--config`, e.g. /etc/duet/duetd.yaml,
// packaging/etc/duetd.yaml shows every key), then command-line flags, which win.

#include <optional>
#include <string>
#include <vector>

#include "engine/instance/run_as.h"

namespace duet::daemon {

// Bearer JWTs required on tcp:// API listeners (the config's nodeApiAuth).
struct NodeApiAuth {
  std::string hmac_secret_file;  // HS256
  std::string jwks_file;         // RS256 / ES256 keys by kid
  std::string issuer;            // empty: not checked
  // Required in every token (`aud`), so that a token minted for another service (a router's
  // users, another node API) is not taken here. Never empty.
  std::string audience = "duetd";
  int leeway_seconds = 30;
  bool configured() const { return !hmac_secret_file.empty() || !jwks_file.empty(); }
};

// TLS for tcp:// API listeners (the config's nodeApiTls). Read at start and on reload.
struct NodeApiTls {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // set: clients need a certificate these CAs signed
  std::string min_version = "1.3";
  bool configured() const { return !cert_file.empty(); }
};

struct DaemonOptions {
  std::string config_file;               // --config; empty: none
  std::vector<std::string> api;          // --api unix:PATH | tcp://ADDR (repeatable)
  std::string state_dir = "/var/lib/duet";
  std::string engine_log_dir;            // empty: <state_dir>/logs
  std::string port_range = "20000-20999";
  std::string log_level = "info";
  std::string dev_root = "/dev";  // every device path is read under these (tests: a fake tree)
  std::string sys_root = "/sys";
  std::string proc_root = "/proc";
  NodeApiAuth auth;
  NodeApiTls tls;
  // engineUser / --engine-user: engines run as this user (its groups give device access);
  // empty: as duetd's own user. Resolved by parse_daemon_options into engine_run_as.
  std::string engine_user;
  std::optional<engine::RunAs> engine_run_as;
  // cgroupRoot / --cgroup-root: where replicas' cgroups go (engine/instance/replica_cgroup.h):
  // "auto", "none" (process groups only) or a folder of the cgroup2 file system.
  std::string cgroup_root = "auto";
  // nodeName / --node-name: how routers name this node (x-duet-backend over several nodes);
  // the host name when not given.
  std::string node_name;
  // --accept-state-loss (a flag only: a one-off decision, not a setting): start empty when
  // the checkpoint files are damaged and none is good, instead of refusing to start.
  bool accept_state_loss = false;

  std::string log_dir() const { return engine_log_dir.empty() ? state_dir + "/logs" : engine_log_dir; }
};

// Reads flags and the config file they name. Throws std::invalid_argument naming the flag,
// or the file and key (`duetd.yaml: portRange: expected string, got 3`).
DaemonOptions parse_daemon_options(const std::vector<std::string>& args);
const char* daemon_usage();

}  // namespace duet::daemon
