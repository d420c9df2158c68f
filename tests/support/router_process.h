#pragma once
// Test helpers for duet-router: the real binary started with a config file (its ports read
// from its `listening` lines), its admin pages and metrics, and a keep-alive client that
// speaks HTTP or HTTPS (checking the router's certificate against the test's CA file).

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "duet/common/http_client.h"
#include "fake_duetd.h"
#include "support/child_process.h"
#include "support/sim_process.h"
#include "support/temp_dir.h"

namespace duet::test {

using Headers = std::map<std::string, std::string>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// duet-router --config FILE --admin 127.0.0.1:0 --threads 2 FLAGS...; waits for the admin
// listener. Listeners come from the file or from `--listen` in FLAGS.
class RouterProcess {
 public:
  RouterProcess(const std::string& config_path, std::vector<std::string> flags,
                std::map<std::string, std::string> env = {});

  const Address& proxy() const { return proxy_; }  // the plain listener, if any
  const Address& tls() const { return tls_; }      // the TLS listener, if any
  ChildProcess& process() { return process_; }

  // Plain HTTP, one connection each.
  http::ClientResponse post(std::string_view target, std::string body, const Headers& headers = {});
  http::ClientResponse get(std::string_view target);
  http::ClientResponse admin(std::string_view target);
  bool ready();
  // Names of the Ready endpoints of `deployment`'s `track` in the router's table.
  std::vector<std::string> endpoints(const std::string& deployment,
                                     const std::string& track = "stable");
  // Whether the router has `replica` of `deployment` out of rotation.
  bool ejected(const std::string& deployment, const std::string& replica);
  // The value of one series in /metrics (`name{labels}` exactly as printed); 0 if absent.
  double metric(const std::string& series);
  // The sum of every series of metric `name`, whatever their labels.
  double metric_total(const std::string& name);

 private:
  ChildProcess process_;
  Address proxy_;
  Address tls_;
  Address admin_;
};

// One client connection that carries many requests in a row (HTTP/1.1 keep-alive). With a
// CA file it speaks TLS and checks the certificate for 127.0.0.1. Throws on I/O errors.
class ProxyClient {
 public:
  explicit ProxyClient(const Address& to, const std::string& ca_file = {});
  ~ProxyClient();

  Response send(boost::beast::http::verb method, std::string_view target, std::string body,
                const Headers& headers = {});
  Response post(std::string_view target, std::string body, const Headers& headers = {}) {
    return send(boost::beast::http::verb::post, target, std::move(body), headers);
  }
  // The negotiated ALPN protocol (TLS only).
  std::string alpn() const;

 private:
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::ssl::context> ssl_;
  std::unique_ptr<boost::asio::ip::tcp::socket> plain_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> secure_;
  boost::beast::flat_buffer buffer_;
};

// What router tests share: a temp dir, a fake duetd serving a snapshot the test gives, the
// router started on a config text, and the router's output shown when the test failed.
class RouterTest : public ::testing::Test {
 protected:
  // The fake duetd on DIR/duetd.sock.
  void start_duetd(nlohmann::json snapshot);
  // Writes `yaml` as DIR/router.yaml and starts the router on it with `flags` and the fake
  // duetd as its source; returns once /readyz says ready (a test failure if it never does).
  void start_router(const std::string& yaml,
                    std::vector<std::string> flags = {"--listen", "127.0.0.1:0"},
                    std::map<std::string, std::string> env = {});
  void TearDown() override;

  TempDir dir_;
  std::unique_ptr<router::test::FakeDuetd> duetd_;
  std::unique_ptr<RouterProcess> router_;
};

// `127.0.0.1:PORT` of a duet-sim, as an engine's endpoint in the watch stream.
std::string endpoint_of(const SimProcess& sim);

// A completion request body for duet-sim.
std::string completion(const std::string& prompt, int max_tokens = 1, bool stream = false,
                       const std::string& model = "m");

}  // namespace duet::test
