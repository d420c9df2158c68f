#include "router/config.h"

#include <fstream>
#include <sstream>
#include <thread>

#include "router/credentials.h"
#include "router/yaml_fields.h"

namespace duet::router {

namespace {

Address parse_address(const std::string& text, const std::string& where) {
  try {
    return Address::parse(text);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(where + ": " + e.what());
  }
}

TlsConfig parse_tls(YamlFields& parent, const std::string& file) {
  YamlFields f(parent.child("tls"), file, parent.child_path("tls"));
  TlsConfig tls;
  tls.cert = f.string("cert");
  tls.key = f.string("key");
  tls.min_version = f.string("minVersion", tls.min_version);
  if (tls.cert.empty()) f.fail(f.child_path("cert"), "required");
  if (tls.key.empty()) f.fail(f.child_path("key"), "required");
  if (tls.min_version != "1.2" && tls.min_version != "1.3")
    f.fail(f.child_path("minVersion"),
           "expected \"1.2\" or \"1.3\", got \"" + tls.min_version + "\"");
  f.reject_unknown();
  return tls;
}

ListenConfig parse_listen_entry(const YAML::Node& node, const std::string& file,
                                const std::string& path) {
  YamlFields f(node, file, path);
  ListenConfig listen;
  std::string address = f.string("address");
  if (address.empty()) f.fail(f.child_path("address"), "required");
  listen.address = parse_address(address, file + ": " + f.child_path("address"));
  if (listen.address.kind != Address::Kind::tcp)
    f.fail(f.child_path("address"), "the proxy listens on TCP only, got \"" + address + "\"");
  if (f.has("tls")) listen.tls = parse_tls(f, file);
  f.reject_unknown();
  return listen;
}

SourceConfig parse_source_entry(const YAML::Node& node, const std::string& file,
                                const std::string& path) {
  if (node.IsScalar()) return parse_source(node.Scalar(), file + ": " + path);
  YamlFields f(node, file, path);
  std::string url = f.string("url");
  if (url.empty()) f.fail(f.child_path("url"), "required");
  SourceConfig source;
  source.name = url;
  source.address = parse_address(url, file + ": " + f.child_path("url"));
  source.token_file = f.string("tokenFile");
  source.ca_file = f.string("caFile");
  source.cert_file = f.string("certFile");
  source.key_file = f.string("keyFile");
  f.reject_unknown();
  if (!source.address.tls) {
    for (const auto* key : {"caFile", "certFile", "keyFile"})
      if (node[key]) f.fail(f.child_path(key), "only for an https:// url");
  } else if (source.ca_file.empty()) {
    f.fail(f.child_path("caFile"),
           "required for an https:// url: the CA that signed the node API's certificate");
  }
  if (source.cert_file.empty() != source.key_file.empty())
    f.fail(f.child_path(source.cert_file.empty() ? "certFile" : "keyFile"),
           "certFile and keyFile go together");
  return source;
}

template <class Entry, class ParseEntry>
std::vector<Entry> parse_list(YamlFields& parent, const std::string& key, const std::string& file,
                              ParseEntry parse_entry) {
  YAML::Node list = parent.child(key);
  std::vector<Entry> out;
  if (!list.IsDefined()) return out;
  if (!list.IsSequence())
    parent.fail(parent.child_path(key), "expected a list, got " + describe(list));
  for (std::size_t i = 0; i < list.size(); ++i)
    out.push_back(parse_entry(list[i], file, key + "[" + std::to_string(i) + "]"));
  return out;
}

JwtConfig parse_jwt(const YAML::Node& node, const std::string& file) {
  YamlFields f(node, file, "auth.jwt");
  JwtConfig jwt;
  jwt.required = f.boolean("required", jwt.required);
  jwt.issuer = f.string("issuer");
  jwt.audience = f.string("audience");
  jwt.jwks = f.string("jwks");
  jwt.hmac_secret_file = f.string("hmacSecretFile");
  jwt.leeway_seconds = static_cast<uint32_t>(f.integer("leewaySeconds", 30, 0, 3600));
  jwt.require_exp = f.boolean("requireExp", jwt.require_exp);
  if (jwt.jwks.empty() == jwt.hmac_secret_file.empty())
    f.fail("auth.jwt", "set exactly one of jwks and hmacSecretFile");
  f.reject_unknown();
  return jwt;
}

void parse_auth(YamlFields& root, RouterConfig& config, const std::string& file) {
  YamlFields auth(root.child("auth"), file, "auth");
  if (auth.has("jwt")) config.jwt = parse_jwt(auth.child("jwt"), file);
  YamlFields limit(auth.child("failureLimit"), file, "auth.failureLimit");
  auto& limits = config.auth_failure_limits;
  limits.max_failures =
      static_cast<uint32_t>(limit.integer("maxFailures", limits.max_failures, 0, 1'000'000));
  limits.window = std::chrono::seconds(limit.integer("windowSeconds", limits.window.count(), 1, 3600));
  limit.reject_unknown();
  auth.reject_unknown();
}

void parse_rate_limit(YamlFields& root, RouterConfig& config, const std::string& file) {
  YAML::Node node = root.child("rateLimit");
  if (!node.IsDefined()) return;
  YamlFields limit(node, file, "rateLimit");
  YamlFields per(limit.child("perSubject"), file, "rateLimit.perSubject");
  RateLimitConfig rl;
  rl.requests_per_second = per.number("requestsPerSecond", 0);
  if (!(rl.requests_per_second > 0))
    per.fail(per.child_path("requestsPerSecond"), "required, a number above 0");
  rl.burst = static_cast<uint32_t>(per.integer("burst", 0, 0, 1'000'000));
  per.reject_unknown();
  limit.reject_unknown();
  config.rate_limit = rl;
}

void parse_limits(YamlFields& root, Limits& limits, const std::string& file) {
  YamlFields f(root.child("limits"), file, "limits");
  limits.max_body_bytes = f.integer("maxBodyBytes", limits.max_body_bytes, 1, 1ull << 32);
  // Beast 1.81 cannot hold a field over 65,533 bytes (it throws): a larger limit would let
  // a request through the limit only to fail in the parser.
  limits.max_header_bytes = f.integer("maxHeaderBytes", limits.max_header_bytes, 1024, 65535);
  limits.header_timeout = std::chrono::seconds(
      f.integer("headerTimeoutSeconds", limits.header_timeout.count(), 1, 3600));
  limits.max_connections = f.integer("maxConnections", limits.max_connections, 1, 10'000'000);
  limits.max_in_flight_requests =
      f.integer("maxInFlightRequests", limits.max_in_flight_requests, 1, 10'000'000);
  limits.max_buffered_body_bytes =
      f.integer("maxBufferedBodyBytes", limits.max_buffered_body_bytes, 1, 1ull << 40);
  if (limits.max_buffered_body_bytes < limits.max_body_bytes)
    f.fail(f.child_path("maxBufferedBodyBytes"),
           "must be at least maxBodyBytes (" + std::to_string(limits.max_body_bytes) +
               "), or a body of the allowed size could never be taken");
  f.reject_unknown();
}

void parse_trusted_proxies(YamlFields& root, TrustedProxies& proxies) {
  YAML::Node list = root.child("trustedProxies");
  if (!list.IsDefined()) return;
  if (!list.IsSequence())
    root.fail("trustedProxies",
              "expected a list of addresses or CIDR blocks, got " + describe(list));
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string path = "trustedProxies[" + std::to_string(i) + "]";
    if (!list[i].IsScalar()) root.fail(path, "expected a string, got " + describe(list[i]));
    try {
      proxies.add(list[i].Scalar());
    } catch (const std::invalid_argument& e) {
      root.fail(path, e.what());
    }
  }
}

}  // namespace

unsigned RouterConfig::worker_threads() const {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

SourceConfig parse_source(const std::string& text, const std::string& where) {
  if (text.starts_with("https://"))
    throw ConfigError(where + ": an https source needs its caFile: write it in the config file "
                              "as {url: \"" + text + "\", caFile: CA.pem, tokenFile: ...}");
  SourceConfig source;
  source.name = text;
  source.address = parse_address(text, where);
  return source;
}

RouterConfig parse_config(const std::string& yaml, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(file + ": " + e.what());
  }
  YamlFields f(root, file, "");
  RouterConfig config;
  config.listen = parse_list<ListenConfig>(f, "listen", file, parse_listen_entry);
  if (std::string admin = f.string("admin"); !admin.empty())
    config.admin = parse_address(admin, file + ": admin");
  config.threads = static_cast<unsigned>(f.integer("threads", 0, 0, 1024));
  parse_auth(f, config, file);
  config.sources = parse_list<SourceConfig>(f, "sources", file, parse_source_entry);
  parse_limits(f, config.limits, file);
  parse_rate_limit(f, config, file);
  parse_trusted_proxies(f, config.trusted_proxies);
  f.reject_unknown();
  return config;
}

RouterConfig load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

void check_startable(const RouterConfig& config) {
  if (config.listen.empty())
    throw ConfigError("no listen address: set listen in the config file or pass --listen");
  if (config.sources.empty())
    throw ConfigError("no source: set sources in the config file or pass --source");
  load_credentials(config);  // throws ConfigError naming the file that does not load
  for (std::size_t i = 0; i < config.sources.size(); ++i) {
    try {
      source_tls(config.sources[i]);
    } catch (const std::exception& e) {
      throw ConfigError("sources[" + std::to_string(i) + "]: " + e.what());
    }
  }
}

}  // namespace duet::router
