#pragma once
// duet-router's configuration (SPEC §5): the YAML file, validated strictly, with every
// error naming the file and the field path. Control plane only: parsing throws ConfigError.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "duet/common/address.h"
#include "router/auth_failure_limiter.h"
#include "router/trusted_proxies.h"

namespace duet::router {

// A configuration problem; the message names the file and field path
// (`router.yaml: limits.maxBodyByte: unknown field`).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A listener's TLS block. The files are read again on SIGHUP and when they change.
struct TlsConfig {
  std::string cert;
  std::string key;
  std::string min_version = "1.3";
};

struct ListenConfig {
  Address address;
  std::optional<TlsConfig> tls;
};

// auth.jwt. `required: false` lets requests without a token through (an invalid token is
// still refused). The key files are read again on SIGHUP and when they change.
struct JwtConfig {
  bool required = true;
  std::string issuer;
  std::string audience;
  std::string jwks;
  std::string hmac_secret_file;
  uint32_t leeway_seconds = 30;
  bool require_exp = true;  // requireExp: false lets tokens without `exp` through
};

// rateLimit.perSubject: a token bucket per JWT `sub` (per client address without a token).
struct RateLimitConfig {
  double requests_per_second = 0;
  uint32_t burst = 0;  // 0: requestsPerSecond rounded up, at least 1
};

// One duetd to watch: `unix:/run/duet/duetd.sock`, `{url: http://HOST:PORT, tokenFile: F}`
// or `{url: https://HOST:PORT, tokenFile: F, caFile: CA[, certFile: C, keyFile: K]}`.
struct SourceConfig {
  std::string name;  // as the user wrote it, for logs and /readyz
  Address address;
  std::string token_file;  // bearer token sent to a TCP node API; empty = none
  // https only: the CA the node's certificate must chain to (pinned: the system's trust
  // store is not used), and a client certificate for a node that asks for one.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

struct Limits {
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;  // also a chunk line and a trailer section
  std::chrono::seconds header_timeout{10};
  std::size_t max_connections = 20000;
  // All workers together: requests between their header and the end of their response,
  // and the request bodies they hold. Beyond either: 503 with Retry-After.
  std::size_t max_in_flight_requests = 10000;
  std::size_t max_buffered_body_bytes = std::size_t{1} << 30;
};

// The scheduling policies' shared state (docs/scheduling.md): the prefix index's memory cap
// and how often each routed engine's /metrics is read.
struct SchedulingConfig {
  std::size_t max_index_bytes = 32 * 1024 * 1024;
  std::chrono::milliseconds scrape_interval{50};
};

struct RouterConfig {
  std::vector<ListenConfig> listen;
  std::optional<Address> admin;
  unsigned threads = 0;  // 0 = one per core
  // After SIGTERM or a reload's hand-over: how long answers in progress may take to finish.
  std::chrono::seconds drain_timeout{30};
  std::optional<JwtConfig> jwt;
  std::optional<RateLimitConfig> rate_limit;
  std::vector<SourceConfig> sources;
  Limits limits;
  SchedulingConfig scheduling;
  TrustedProxies trusted_proxies;  // whose X-Forwarded-For is appended to; else replaced
  // auth.failureLimit: {maxFailures, windowSeconds}; maxFailures 0 turns it off.
  AuthFailureLimits auth_failure_limits;

  // Worker threads to start: `threads`, or the number of cores when it is 0.
  unsigned worker_threads() const;
};

// Parses YAML text; `file` is the name used in messages. Throws ConfigError.
RouterConfig parse_config(const std::string& yaml, const std::string& file);
// Reads and parses a file. Throws ConfigError (also when it cannot be read).
RouterConfig load_config(const std::string& path);
// Parses one `--source` flag value (`unix:PATH` or `http://HOST:PORT`; an https source needs
// its caFile, so it is written in the config file). Throws ConfigError.
SourceConfig parse_source(const std::string& text, const std::string& where);
// What a complete configuration needs beyond its syntax: a listener, a source, and TLS
// certificates and JWT keys that load. Throws ConfigError.
void check_startable(const RouterConfig& config);

}  // namespace duet::router
