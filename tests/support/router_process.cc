#include "support/router_process.h"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace duet::test {

namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// The port on the router's `event=listening kind=KIND ` line; 0 when there is none.
uint16_t listening_port(const std::string& output, const std::string& kind) {
  auto line = output.find("event=listening kind=" + kind + " ");
  if (line == std::string::npos) return 0;
  auto at = output.find("port=", line);
  return static_cast<uint16_t>(std::stoi(output.substr(at + 5)));
}

Address loopback(uint16_t port) {
  Address a;
  a.host = "127.0.0.1";
  a.port = port;
  return a;
}

void set_receive_timeout(int fd) {
  timeval timeout{10, 0};  // a hung router fails the test instead of blocking it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

}  // namespace

RouterProcess::RouterProcess(const std::string& config_path, std::vector<std::string> flags,
                             std::map<std::string, std::string> env)
    : process_(
          [&] {
            std::vector<std::string> argv = {
                bin("duet-router"), "--config",  config_path, "--admin",
                "127.0.0.1:0",      "--threads", "2"};
            argv.insert(argv.end(), flags.begin(), flags.end());
            return argv;
          }(),
          std::move(env)) {
  if (!process_.wait_for_output("event=listening kind=admin"))
    throw std::runtime_error("duet-router did not start: " + process_.output());
  std::string out = process_.output();
  proxy_ = loopback(listening_port(out, "proxy"));
  tls_ = loopback(listening_port(out, "proxy-tls"));
  admin_ = loopback(listening_port(out, "admin"));
}

http::ClientResponse RouterProcess::post(std::string_view target, std::string body,
                                         const Headers& headers) {
  auto request =
      http::make_request(bhttp::verb::post, target, proxy_, std::move(body), "application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  return http::fetch_sync(proxy_, std::move(request), 10s);
}

http::ClientResponse RouterProcess::get(std::string_view target) {
  return http::fetch_sync(proxy_, http::make_request(bhttp::verb::get, target, proxy_), 10s);
}

http::ClientResponse RouterProcess::admin(std::string_view target) {
  return http::fetch_sync(admin_, http::make_request(bhttp::verb::get, target, admin_), 10s);
}

bool RouterProcess::ready() { return admin("/readyz").result_int() == 200; }

std::vector<std::string> RouterProcess::endpoints(const std::string& deployment,
                                                  const std::string& track) {
  auto config = nlohmann::json::parse(admin("/config").body());
  std::vector<std::string> names;
  const auto& d = config["deployments"][deployment];
  if (d.is_object())
    for (const auto& e : d[track]) names.push_back(e["name"]);
  return names;
}

bool RouterProcess::ejected(const std::string& deployment, const std::string& replica) {
  auto config = nlohmann::json::parse(admin("/config").body());
  for (const char* track : {"stable", "canary"})
    for (const auto& e : config["deployments"][deployment][track])
      if (e["name"] == replica) return e["ejected"].get<bool>();
  return false;
}

double RouterProcess::metric(const std::string& series) {
  std::string text = "\n";
  text += admin("/metrics").body();
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + series.size() + 2));
}

double RouterProcess::metric_total(const std::string& name) {
  std::istringstream lines(admin("/metrics").body());
  double total = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(name)) continue;
    std::string_view rest = std::string_view(line).substr(name.size());
    if (rest.starts_with('{')) rest.remove_prefix(std::min(rest.size(), rest.find('}') + 1));
    if (rest.starts_with(' ')) total += std::stod(std::string(rest.substr(1)));
  }
  return total;
}

ProxyClient::ProxyClient(const Address& to, const std::string& ca_file) {
  tcp::endpoint endpoint(boost::asio::ip::make_address(to.host), to.port);
  if (ca_file.empty()) {
    plain_ = std::make_unique<tcp::socket>(io_);
    plain_->connect(endpoint);
    set_receive_timeout(plain_->native_handle());
    return;
  }
  ssl_ = std::make_unique<ssl::context>(ssl::context::tls_client);
  ssl_->load_verify_file(ca_file);
  ssl_->set_verify_mode(ssl::verify_peer);
  secure_ = std::make_unique<ssl::stream<tcp::socket>>(io_, *ssl_);
  secure_->set_verify_callback(ssl::host_name_verification(to.host));
  static constexpr unsigned char kProtocols[] = {2,   'h', '2', 8,   'h', 't',
                                                 't', 'p', '/', '1', '.', '1'};
  SSL_set_alpn_protos(secure_->native_handle(), kProtocols, sizeof kProtocols);
  secure_->next_layer().connect(endpoint);
  set_receive_timeout(secure_->next_layer().native_handle());
  secure_->handshake(ssl::stream_base::client);
}

ProxyClient::~ProxyClient() = default;

Response ProxyClient::send(bhttp::verb method, std::string_view target, std::string body,
                           const Headers& headers) {
  bhttp::request<bhttp::string_body> request(method, target, 11);
  request.set(bhttp::field::host, "router");
  if (!body.empty()) request.set(bhttp::field::content_type, "application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::move(body);
  request.prepare_payload();
  Response response;
  if (secure_) {
    bhttp::write(*secure_, request);
    bhttp::read(*secure_, buffer_, response);
  } else {
    bhttp::write(*plain_, request);
    bhttp::read(*plain_, buffer_, response);
  }
  return response;
}

std::string ProxyClient::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  if (secure_) SSL_get0_alpn_selected(secure_->native_handle(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

void RouterTest::start_duetd(nlohmann::json snapshot) {
  duetd_ = std::make_unique<router::test::FakeDuetd>((dir_ / "duetd.sock").string(),
                                                     std::move(snapshot));
}

void RouterTest::start_router(const std::string& yaml, std::vector<std::string> flags,
                              std::map<std::string, std::string> env) {
  std::ofstream(dir_ / "router.yaml") << yaml;
  flags.insert(flags.end(), {"--source", duetd_->address()});
  router_ = std::make_unique<RouterProcess>((dir_ / "router.yaml").string(), std::move(flags),
                                            std::move(env));
  ASSERT_TRUE(eventually([&] { return router_->ready(); })) << router_->process().output();
}

void RouterTest::TearDown() {
  if (router_ && (HasFailure() || std::getenv("DUET_TEST_VERBOSE")))
    std::cerr << "--- duet-router output ---\n" << router_->process().output();
}

std::string endpoint_of(const SimProcess& sim) {
  std::string text = "127.0.0.1:";
  return text += std::to_string(sim.port());
}

std::string completion(const std::string& prompt, int max_tokens, bool stream,
                       const std::string& model) {
  return nlohmann::json(
             {{"model", model}, {"prompt", prompt}, {"max_tokens", max_tokens}, {"stream", stream}})
      .dump();
}

}  // namespace duet::test
