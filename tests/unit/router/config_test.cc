#include "router/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "router/command_line.h"
#include "support/billion_laughs.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"

namespace duet::router {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "router.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(RouterConfig, ParsesTheSpecExample) {
  auto config = parse_config(R"(
listen:
  - {address: "0.0.0.0:8443", tls: {cert: /etc/duet/tls.crt, key: /etc/duet/tls.key, minVersion: "1.3"}}
  - {address: "127.0.0.1:8080"}
admin: "127.0.0.1:9901"
threads: 0
auth:
  jwt:
    required: true
    issuer: https://auth.example.com
    audience: duet
    jwks: /etc/duet/jwks.json
    leewaySeconds: 30
sources:
  - unix:/run/duet/duetd.sock
  - {url: "http://10.0.0.12:7070", tokenFile: /etc/duet/node-api.jwt}
limits: {maxBodyBytes: 8388608, maxHeaderBytes: 16384, headerTimeoutSeconds: 10, maxConnections: 20000}
rateLimit: {perSubject: {requestsPerSecond: 20, burst: 40}}
)",
                             "router.yaml");
  ASSERT_EQ(config.listen.size(), 2u);
  EXPECT_EQ(config.listen[0].address.port, 8443);
  ASSERT_TRUE(config.listen[0].tls);
  EXPECT_EQ(config.listen[0].tls->cert, "/etc/duet/tls.crt");
  EXPECT_EQ(config.listen[0].tls->min_version, "1.3");
  EXPECT_FALSE(config.listen[1].tls);
  ASSERT_TRUE(config.admin);
  EXPECT_EQ(config.admin->port, 9901);
  EXPECT_EQ(config.threads, 0u);
  EXPECT_GE(config.worker_threads(), 1u);
  ASSERT_TRUE(config.jwt);
  EXPECT_EQ(config.jwt->audience, "duet");
  ASSERT_EQ(config.sources.size(), 2u);
  EXPECT_EQ(config.sources[0].address.kind, Address::Kind::unix_socket);
  EXPECT_EQ(config.sources[0].address.path, "/run/duet/duetd.sock");
  EXPECT_EQ(config.sources[1].address.host, "10.0.0.12");
  EXPECT_EQ(config.sources[1].token_file, "/etc/duet/node-api.jwt");
  EXPECT_EQ(config.limits.max_body_bytes, 8388608u);
  EXPECT_EQ(config.limits.header_timeout, std::chrono::seconds(10));
  ASSERT_TRUE(config.rate_limit);
  EXPECT_EQ(config.rate_limit->burst, 40u);
}

TEST(RouterConfig, DefaultsWhenFieldsAreAbsent) {
  auto config =
      parse_config("listen: [{address: '127.0.0.1:0'}]\nsources: [unix:/x.sock]\n", "router.yaml");
  EXPECT_FALSE(config.admin);
  EXPECT_EQ(config.limits.max_body_bytes, 8u * 1024 * 1024);
  EXPECT_EQ(config.limits.max_header_bytes, 16u * 1024);
  EXPECT_EQ(config.limits.max_connections, 20000u);
  EXPECT_EQ(config.auth_failure_limits.max_failures, 20u);
  EXPECT_EQ(config.auth_failure_limits.window, std::chrono::seconds(10));
  EXPECT_EQ(config.drain_timeout, std::chrono::seconds(30));
  EXPECT_NO_THROW(check_startable(config));
  EXPECT_EQ(parse_config("drainTimeoutSeconds: 0\n", "router.yaml").drain_timeout, std::chrono::seconds(0));
  EXPECT_EQ(error_of("drainTimeoutSeconds: -5\n"),
            "router.yaml: drainTimeoutSeconds: must be between 0 and 86400, got -5");
}

TEST(RouterConfig, TokensNeedExpAndFailuresAreLimitedUnlessSaidOtherwise) {
  auto config = parse_config(
      "auth: {jwt: {jwks: j, requireExp: false}, failureLimit: {maxFailures: 0, windowSeconds: 60}}\n",
      "router.yaml");
  ASSERT_TRUE(config.jwt);
  EXPECT_FALSE(config.jwt->require_exp);
  EXPECT_EQ(config.auth_failure_limits.max_failures, 0u);
  EXPECT_EQ(config.auth_failure_limits.window, std::chrono::seconds(60));
  EXPECT_TRUE(parse_config("auth: {jwt: {jwks: j}}\n", "router.yaml").jwt->require_exp);
  EXPECT_EQ(error_of("auth: {failureLimit: {maxFailure: 3}}\n"),
            "router.yaml: auth.failureLimit.maxFailure: unknown field");
}

TEST(RouterConfig, UnknownFieldNamesItsPath) {
  EXPECT_EQ(error_of("limits: {maxBodyByte: 10}\n"),
            "router.yaml: limits.maxBodyByte: unknown field");
  EXPECT_EQ(error_of("listen: [{address: '1.2.3.4:1', tls: {cert: a, key: b, ciphers: x}}]\n"),
            "router.yaml: listen[0].tls.ciphers: unknown field");
  EXPECT_EQ(error_of("sources: [{url: 'http://1.2.3.4:1', token: x}]\n"),
            "router.yaml: sources[0].token: unknown field");
  EXPECT_EQ(error_of("treads: 2\n"), "router.yaml: treads: unknown field");
}

TEST(RouterConfig, WrongTypeNamesItsPathAndValue) {
  EXPECT_EQ(error_of("threads: two\n"), "router.yaml: threads: expected integer, got \"two\"");
  EXPECT_EQ(error_of("threads: \"2\"\n"), "router.yaml: threads: expected integer, got \"2\"");
  EXPECT_EQ(error_of("limits: {maxConnections: [1]}\n"),
            "router.yaml: limits.maxConnections: expected integer, got a list");
  EXPECT_EQ(error_of("listen: {address: x}\n"),
            "router.yaml: listen: expected a list, got an object");
  EXPECT_EQ(error_of("auth: {jwt: {required: yes, jwks: j}}\n"),
            "router.yaml: auth.jwt.required: expected true or false, got \"yes\"");
  EXPECT_EQ(error_of("threads: -1\n"), "router.yaml: threads: must be between 0 and 1024, got -1");
  EXPECT_EQ(error_of("limits: {maxBodyBytes: 18446744073709551615}\n"),
            "router.yaml: limits.maxBodyBytes: must be between 1 and 4294967296, got "
            "18446744073709551615");
  EXPECT_EQ(error_of("admin: 9901\n"), "router.yaml: admin: expected string, got 9901");
  EXPECT_EQ(error_of("sources: [[unix:/x.sock]]\n"),
            "router.yaml: sources[0]: expected a url or {url: ...}, got a list");
  EXPECT_EQ(error_of("rateLimit: {perSubject: {requestsPerSecond: \"5\"}}\n"),
            "router.yaml: rateLimit.perSubject.requestsPerSecond: expected number, got \"5\"");
}

TEST(RouterConfig, BadValuesNameTheirPath) {
  EXPECT_NE(error_of("listen: [{address: 'nonsense'}]\n").find("router.yaml: listen[0].address:"),
            std::string::npos);
  EXPECT_EQ(error_of("listen: [{address: 'unix:/x'}]\n"),
            "router.yaml: listen[0].address: the proxy listens on TCP only, got \"unix:/x\"");
  EXPECT_EQ(error_of("limits: {headerTimeoutSeconds: 0}\n"),
            "router.yaml: limits.headerTimeoutSeconds: must be between 1 and 3600, got 0");
  // Beast cannot hold a field over 65,533 bytes: a larger limit would only defer the failure.
  EXPECT_EQ(error_of("limits: {maxHeaderBytes: 65536}\n"),
            "router.yaml: limits.maxHeaderBytes: must be between 1024 and 65535, got 65536");
  EXPECT_EQ(parse_config("limits: {maxHeaderBytes: 65535}\n", "router.yaml").limits.max_header_bytes,
            65535u);
  // https sources pin the CA that signed the node's certificate: it must be named.
  EXPECT_NE(error_of("sources: ['https://1.2.3.4:7070']\n").find("needs its caFile"), std::string::npos);
  EXPECT_EQ(error_of("sources: [{url: 'https://1.2.3.4:7070'}]\n"),
            "router.yaml: sources[0].caFile: required for an https:// url: the CA that signed the "
            "node API's certificate");
  EXPECT_EQ(error_of("sources: [{url: 'http://1.2.3.4:7070', caFile: /ca.pem}]\n"),
            "router.yaml: sources[0].caFile: only for an https:// url");
  EXPECT_EQ(error_of("sources: [{url: 'https://1.2.3.4:7070', caFile: /ca.pem, certFile: /c.pem}]\n"),
            "router.yaml: sources[0].keyFile: certFile and keyFile go together");
  auto https = parse_config("sources: [{url: 'https://1.2.3.4:7070', caFile: /ca.pem}]\n", "router.yaml");
  EXPECT_TRUE(https.sources[0].address.tls);
  EXPECT_EQ(https.sources[0].ca_file, "/ca.pem");
  EXPECT_NE(error_of("listen: [").find("router.yaml:"), std::string::npos);
}

TEST(RouterConfig, TlsMinVersionIsAQuotedString) {
  EXPECT_EQ(error_of("listen: [{address: '1.2.3.4:1', tls: {cert: a, key: b, minVersion: 1.2}}]\n"),
            "router.yaml: listen[0].tls.minVersion: expected \"1.2\" or \"1.3\" in quotes "
            "(unquoted, YAML reads a number), got 1.2");
  EXPECT_EQ(error_of("listen: [{address: '1.2.3.4:1', tls: {cert: a, key: b, minVersion: '1.1'}}]\n"),
            "router.yaml: listen[0].tls.minVersion: expected \"1.2\" or \"1.3\", got \"1.1\"");
  EXPECT_EQ(error_of("listen: [{address: '1.2.3.4:1', tls: {key: b}}]\n"),
            "router.yaml: listen[0].tls.cert: required field is missing");
}

// The file is read as manifests are: aliases, depth and size within limits checked before
// the copies are made, so a small file cannot take the router's memory.
TEST(RouterConfig, TheFileHasTheManifestsLimits) {
  EXPECT_EQ(error_of(test::billion_laughs_yaml()),
            "router.yaml:6: expands to more than 100000 YAML nodes (each use of an alias counts "
            "the whole node)");
  EXPECT_EQ(error_of(std::string(65, '[') + std::string(65, ']')),
            "router.yaml:1: nested deeper than 64 levels");
  EXPECT_EQ(error_of("listen: [\n"), "router.yaml:2: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(error_of("threads: 2\n---\nthreads: 3\n"),
            "router.yaml: expected one YAML document, got 2");
  EXPECT_EQ(error_of("- a\n"), "router.yaml: (document): expected an object, got a list");
  // Anchors within the limits are expanded as usual.
  auto config = parse_config("sources: [&src unix:/x.sock, *src]\n", "router.yaml");
  ASSERT_EQ(config.sources.size(), 2u);
  EXPECT_EQ(config.sources[1].address.path, "/x.sock");
}

TEST(RouterConfig, StartLoadsTlsFilesAndJwtKeysAndNamesTheOneThatFails) {
  test::TempDir dir;
  auto cert = (dir / "c.pem").string();
  auto key = (dir / "k.pem").string();
  std::ofstream(dir / "router.yaml") << "listen: [{address: '127.0.0.1:0', tls: {cert: " << cert
                                     << ", key: " << key << "}}]\nsources: [unix:/x.sock]\n";
  auto config = load_config((dir / "router.yaml").string());
  ASSERT_TRUE(config.listen[0].tls);
  EXPECT_EQ(config.listen[0].tls->min_version, "1.3");  // the default
  auto error_naming = [&](const std::string& file) {
    try {
      check_startable(config);
      return std::string("no error");
    } catch (const ConfigError& e) {
      return std::string(e.what()).find(file) != std::string::npos ? file : e.what();
    }
  };
  EXPECT_EQ(error_naming(cert), cert);
  duet::test::write_self_signed(cert, key);
  EXPECT_NO_THROW(check_startable(config));

  config.jwt = JwtConfig{};
  config.jwt->jwks = (dir / "jwks.json").string();
  EXPECT_EQ(error_naming(config.jwt->jwks), config.jwt->jwks);
  std::ofstream(dir / "jwks.json") << R"({"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]})";
  EXPECT_NO_THROW(check_startable(config));
}

TEST(RouterConfig, StartNeedsAListenerAndASource) {
  RouterConfig config;
  EXPECT_THROW(check_startable(config), ConfigError);
  config.listen.push_back({Address::parse("127.0.0.1:0"), std::nullopt});
  EXPECT_THROW(check_startable(config), ConfigError);
  config.sources.push_back(parse_source("unix:/x.sock", "--source"));
  EXPECT_NO_THROW(check_startable(config));
}

TEST(RouterCommandLine, FlagsOverrideTheFile) {
  test::TempDir dir;
  auto path = (dir / "router.yaml").string();
  std::ofstream(path) << "listen: [{address: '0.0.0.0:8080'}, {address: '0.0.0.0:8081'}]\n"
                         "admin: 127.0.0.1:9901\nthreads: 4\nsources: [unix:/a.sock]\n";
  auto line = parse_command_line({"--listen", "127.0.0.1:0", "--config", path, "--threads=2",
                                  "--source", "unix:/b.sock", "--source", "http://127.0.0.1:7070",
                                  "--admin", "unix:/tmp/admin.sock"});
  ASSERT_EQ(line.config.listen.size(), 1u);
  EXPECT_EQ(line.config.listen[0].address.port, 0);
  EXPECT_EQ(line.config.threads, 2u);
  ASSERT_EQ(line.config.sources.size(), 2u);
  EXPECT_EQ(line.config.sources[0].address.path, "/b.sock");
  EXPECT_EQ(line.config.sources[1].address.port, 7070);
  EXPECT_EQ(line.config.admin->kind, Address::Kind::unix_socket);
  EXPECT_FALSE(line.check_config);
}

TEST(RouterConfig, RequestBudgetKeysHaveDefaultsAndAreChecked) {
  auto defaults = parse_config("{}", "router.yaml");
  EXPECT_EQ(defaults.limits.max_in_flight_requests, 10000u);
  EXPECT_EQ(defaults.limits.max_buffered_body_bytes, 1u << 30);
  auto set = parse_config("limits: {maxInFlightRequests: 5, maxBufferedBodyBytes: 9000000}\n",
                          "router.yaml");
  EXPECT_EQ(set.limits.max_in_flight_requests, 5u);
  EXPECT_EQ(set.limits.max_buffered_body_bytes, 9000000u);
  EXPECT_EQ(error_of("limits: {maxInFlightRequests: 0}\n"),
            "router.yaml: limits.maxInFlightRequests: must be between 1 and 10000000, got 0");
  EXPECT_EQ(error_of("limits: {maxBodyBytes: 2000, maxBufferedBodyBytes: 1000}\n"),
            "router.yaml: limits.maxBufferedBodyBytes: must be at least maxBodyBytes (2000), or "
            "a body of the allowed size could never be taken");
}

TEST(RouterConfig, SchedulingKeysHaveDefaultsAndAreChecked) {
  auto defaults = parse_config("{}", "router.yaml");
  EXPECT_EQ(defaults.scheduling.max_index_bytes, 32u << 20);
  EXPECT_EQ(defaults.scheduling.scrape_interval, std::chrono::milliseconds(50));
  auto set = parse_config("scheduling: {maxIndexBytes: 4194304, scrapeIntervalMs: 200}\n", "router.yaml");
  EXPECT_EQ(set.scheduling.max_index_bytes, 4u << 20);
  EXPECT_EQ(set.scheduling.scrape_interval, std::chrono::milliseconds(200));
  EXPECT_EQ(error_of("scheduling: {maxIndexBytes: 1000}\n"),
            "router.yaml: scheduling.maxIndexBytes: must be between 1048576 and 68719476736, got 1000");
  EXPECT_EQ(error_of("scheduling: {scrapeIntervalMs: -5}\n"),
            "router.yaml: scheduling.scrapeIntervalMs: must be between 10 and 60000, got -5");
  EXPECT_NE(error_of("scheduling: {policy: duet}\n").find("scheduling.policy"), std::string::npos)
      << error_of("scheduling: {policy: duet}\n");
}

TEST(RouterConfig, TrustedProxiesNameTheBadEntry) {
  auto config = parse_config("trustedProxies: ['10.0.0.0/8', '::1']\n", "router.yaml");
  EXPECT_TRUE(config.trusted_proxies.contains(boost::asio::ip::make_address("::1")));
  EXPECT_TRUE(parse_config("{}", "router.yaml").trusted_proxies.empty());
  EXPECT_EQ(error_of("trustedProxies: ['10.0.0.0/8', 'lb.example']\n"),
            "router.yaml: trustedProxies[1]: expected an IP address or a CIDR block, got "
            "\"lb.example\"");
  EXPECT_EQ(error_of("trustedProxies: ['10.0.0.0/33']\n"),
            "router.yaml: trustedProxies[0]: the prefix length of \"10.0.0.0/33\" must be 0 to 32");
  EXPECT_EQ(error_of("trustedProxies: ['10.0.0.0/']\n"),
            "router.yaml: trustedProxies[0]: the prefix length of \"10.0.0.0/\" must be 0 to 32");
  EXPECT_EQ(error_of("trustedProxies: 10.0.0.1\n"),
            "router.yaml: trustedProxies: expected a list, got \"10.0.0.1\"");
}

TEST(RouterCommandLine, UsageErrors) {
  EXPECT_THROW(parse_command_line({"--bogus"}), UsageError);
  EXPECT_THROW(parse_command_line({"--listen"}), UsageError);
  EXPECT_THROW(parse_command_line({"--threads", "many"}), UsageError);
  EXPECT_THROW(parse_command_line({"--listen", "unix:/x"}), UsageError);
  EXPECT_THROW(parse_command_line({"--config", "/nonexistent/router.yaml"}), ConfigError);
  EXPECT_TRUE(parse_command_line({"--check-config"}).check_config);
  EXPECT_TRUE(parse_command_line({"--help"}).help);
}

}  // namespace
}  // namespace duet::router
