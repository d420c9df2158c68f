#include "router/config.h"

#include <fstream>
#include <sstream>
#include <thread>

#include "duet/api/field_reader.h"
#include "duet/common/yaml_to_json.h"
#include "router/credentials.h"

namespace duet::router {

namespace {

using api::FieldError;
using api::FieldReader;
using nlohmann::json;

// Inside the file every error is a FieldError naming its path; parse_config adds the file.
Address address_at(const std::string& text, const std::string& path) {
  try {
    return Address::parse(text);
  } catch (const std::invalid_argument& e) {
    throw FieldError(path, e.what());
  }
}

SourceConfig source_from_text(const std::string& text, const std::string& path) {
  if (text.starts_with("https://"))
    throw FieldError(path, "an https source needs its caFile: write it in the config file as "
                           "{url: \"" + text + "\", caFile: CA.pem, tokenFile: ...}");
  SourceConfig source;
  source.name = text;
  source.address = address_at(text, path);
  return source;
}

TlsConfig read_tls(const json& node, const std::string& path) {
  FieldReader f(node, path);
  TlsConfig tls;
  tls.cert = f.string("cert");
  tls.key = f.string("key");
  // Unquoted, `minVersion: 1.3` is a number in YAML: say so rather than "expected string".
  const std::string expected = "expected \"1.2\" or \"1.3\"";
  if (auto it = node.find("minVersion"); it != node.end() && it->is_number())
    throw FieldError(f.child_path("minVersion"),
                     expected + " in quotes (unquoted, YAML reads a number), got " +
                         api::describe(*it));
  tls.min_version = f.optional_string("minVersion").value_or(tls.min_version);
  if (tls.min_version != "1.2" && tls.min_version != "1.3")
    throw FieldError(f.child_path("minVersion"), expected + ", got \"" + tls.min_version + "\"");
  f.reject_unknown();
  return tls;
}

ListenConfig read_listen_entry(const json& node, const std::string& path) {
  FieldReader f(node, path);
  ListenConfig listen;
  std::string address = f.string("address");
  listen.address = address_at(address, f.child_path("address"));
  if (listen.address.kind != Address::Kind::tcp)
    throw FieldError(f.child_path("address"),
                     "the proxy listens on TCP only, got \"" + address + "\"");
  if (const auto* tls = f.object("tls")) listen.tls = read_tls(*tls, f.child_path("tls"));
  f.reject_unknown();
  return listen;
}

// caFile pins the node's CA; a client certificate is whole or absent.
void check_source_tls(const FieldReader& f, const SourceConfig& source) {
  if (!source.address.tls) {
    for (const auto* key : {"caFile", "certFile", "keyFile"})
      if (f.has(key)) throw FieldError(f.child_path(key), "only for an https:// url");
  } else if (source.ca_file.empty()) {
    throw FieldError(f.child_path("caFile"),
                     "required for an https:// url: the CA that signed the node API's certificate");
  }
  if (source.cert_file.empty() != source.key_file.empty())
    throw FieldError(f.child_path(source.cert_file.empty() ? "certFile" : "keyFile"),
                     "certFile and keyFile go together");
}

SourceConfig read_source_entry(const json& node, const std::string& path) {
  if (node.is_string()) return source_from_text(node.get<std::string>(), path);
  if (!node.is_object())
    throw FieldError(path, "expected a url or {url: ...}, got " + api::describe(node));
  FieldReader f(node, path);
  SourceConfig source;
  source.name = f.string("url");
  source.address = address_at(source.name, f.child_path("url"));
  source.token_file = f.text("tokenFile");
  source.ca_file = f.text("caFile");
  source.cert_file = f.text("certFile");
  source.key_file = f.text("keyFile");
  f.reject_unknown();
  check_source_tls(f, source);
  return source;
}

template <class Entry>
std::vector<Entry> read_list(FieldReader& parent, const std::string& key,
                             Entry (*read_entry)(const json&, const std::string&)) {
  std::vector<Entry> out;
  const json* list = parent.array(key);
  if (!list) return out;
  for (std::size_t i = 0; i < list->size(); ++i)
    out.push_back(read_entry((*list)[i], parent.child_path(key) + "[" + std::to_string(i) + "]"));
  return out;
}

JwtConfig read_jwt(FieldReader& f) {
  JwtConfig jwt;
  jwt.required = f.boolean("required", jwt.required);
  jwt.issuer = f.text("issuer");
  jwt.audience = f.text("audience");
  jwt.jwks = f.text("jwks");
  jwt.hmac_secret_file = f.text("hmacSecretFile");
  jwt.leeway_seconds =
      static_cast<uint32_t>(f.integer("leewaySeconds", jwt.leeway_seconds, 0, 3600));
  jwt.require_exp = f.boolean("requireExp", jwt.require_exp);
  if (jwt.jwks.empty() == jwt.hmac_secret_file.empty())
    throw FieldError(f.path(), "set exactly one of jwks and hmacSecretFile");
  f.reject_unknown();
  return jwt;
}

void read_failure_limit(FieldReader& f, AuthFailureLimits& limits) {
  limits.max_failures =
      static_cast<uint32_t>(f.integer("maxFailures", limits.max_failures, 0, 1'000'000));
  limits.window = std::chrono::seconds(f.integer("windowSeconds", limits.window.count(), 1, 3600));
  f.reject_unknown();
}

void read_auth(FieldReader& root, RouterConfig& config) {
  if (!root.object("auth")) return;
  FieldReader auth = root.child("auth");
  if (auth.object("jwt")) {
    FieldReader jwt = auth.child("jwt");
    config.jwt = read_jwt(jwt);
  }
  if (auth.object("failureLimit")) {
    FieldReader limit = auth.child("failureLimit");
    read_failure_limit(limit, config.auth_failure_limits);
  }
  auth.reject_unknown();
}

// As many requests a second as a burst may hold: past that a limit limits nothing.
constexpr double kMaxRequestsPerSecond = 1'000'000;

void read_rate_limit(FieldReader& root, RouterConfig& config) {
  if (!root.object("rateLimit")) return;
  FieldReader limit = root.child("rateLimit");
  FieldReader per = limit.child("perSubject");
  RateLimitConfig rl;
  rl.requests_per_second = per.number("requestsPerSecond", 0, 0, kMaxRequestsPerSecond);
  if (!(rl.requests_per_second > 0))
    throw FieldError(per.child_path("requestsPerSecond"), "required, a number above 0");
  rl.burst = static_cast<uint32_t>(per.integer("burst", 0, 0, 1'000'000));
  per.reject_unknown();
  limit.reject_unknown();
  config.rate_limit = rl;
}

// A size or count in [min, max], `value` when absent.
void read_size(FieldReader& f, const std::string& key, std::size_t& value, int64_t min,
               int64_t max) {
  value = static_cast<std::size_t>(f.integer(key, static_cast<int64_t>(value), min, max));
}

void read_scheduling(FieldReader& root, SchedulingConfig& scheduling) {
  if (!root.object("scheduling")) return;
  FieldReader f = root.child("scheduling");
  read_size(f, "maxIndexBytes", scheduling.max_index_bytes, 1 << 20, int64_t{1} << 36);
  scheduling.scrape_interval = std::chrono::milliseconds(
      f.integer("scrapeIntervalMs", scheduling.scrape_interval.count(), 10, 60'000));
  f.reject_unknown();
}

void read_limits(FieldReader& root, Limits& limits) {
  if (!root.object("limits")) return;
  FieldReader f = root.child("limits");
  read_size(f, "maxBodyBytes", limits.max_body_bytes, 1, int64_t{1} << 32);
  // Beast 1.81 cannot hold a field over 65,533 bytes (it throws): a larger limit would let
  // a request through the limit only to fail in the parser.
  read_size(f, "maxHeaderBytes", limits.max_header_bytes, 1024, 65535);
  limits.header_timeout = std::chrono::seconds(
      f.integer("headerTimeoutSeconds", limits.header_timeout.count(), 1, 3600));
  read_size(f, "maxConnections", limits.max_connections, 1, 10'000'000);
  read_size(f, "maxInFlightRequests", limits.max_in_flight_requests, 1, 10'000'000);
  read_size(f, "maxBufferedBodyBytes", limits.max_buffered_body_bytes, 1, int64_t{1} << 40);
  if (limits.max_buffered_body_bytes < limits.max_body_bytes)
    throw FieldError(f.child_path("maxBufferedBodyBytes"),
                     "must be at least maxBodyBytes (" + std::to_string(limits.max_body_bytes) +
                         "), or a body of the allowed size could never be taken");
  f.reject_unknown();
}

void read_trusted_proxies(FieldReader& root, TrustedProxies& proxies) {
  auto list = root.string_list("trustedProxies", false);
  for (std::size_t i = 0; i < list.size(); ++i) {
    try {
      proxies.add(list[i]);
    } catch (const std::invalid_argument& e) {
      throw FieldError("trustedProxies[" + std::to_string(i) + "]", e.what());
    }
  }
}

RouterConfig read_config(const json& settings) {
  FieldReader f(settings, "");
  RouterConfig config;
  config.listen = read_list(f, "listen", read_listen_entry);
  if (auto admin = f.optional_string("admin")) config.admin = address_at(*admin, "admin");
  config.threads = static_cast<unsigned>(f.integer("threads", 0, 0, 1024));
  config.drain_timeout = std::chrono::seconds(f.integer("drainTimeoutSeconds", 30, 0, 86400));
  read_auth(f, config);
  config.sources = read_list(f, "sources", read_source_entry);
  read_limits(f, config.limits);
  read_scheduling(f, config.scheduling);
  read_rate_limit(f, config);
  read_trusted_proxies(f, config.trusted_proxies);
  f.reject_unknown();
  return config;
}

}  // namespace

unsigned RouterConfig::worker_threads() const {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

SourceConfig parse_source(const std::string& text, const std::string& where) {
  try {
    return source_from_text(text, where);
  } catch (const FieldError& e) {
    throw ConfigError(e.what());
  }
}

RouterConfig parse_config(const std::string& yaml, const std::string& file) {
  json settings;
  try {
    // Under the manifests' limits (alias expansion, depth, size), checked before any work.
    settings = yaml_config_document(yaml, file);
  } catch (const std::invalid_argument& e) {  // `FILE:LINE: message`
    throw ConfigError(e.what());
  }
  try {
    return read_config(settings);
  } catch (const FieldError& e) {
    throw ConfigError(file + ": " + e.what());
  }
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
