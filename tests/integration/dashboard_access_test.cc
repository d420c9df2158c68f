// Who reaches the dashboard and how (docs/security.md, "The dashboard"): duetd's TCP listener
// serves the page's files to anyone and the API only with a token; `duetctl proxy` serves both
// with the user's access, but only under its own host names, refuses another site's writes,
// says so when duetd is down, and will not listen beyond loopback unless told to.
#include <gtest/gtest.h>

#include <fstream>

#include "support/duetd_harness.h"
#include "support/raw_http.h"
#include "support/test_keys.h"

namespace duet::test {
namespace {

using nlohmann::json;

RawHttpClient::Response get_raw(uint16_t port, const std::string& request) {
  RawHttpClient client(port);
  client.send(request);
  auto res = client.read();
  if (!res) throw std::runtime_error("no answer to " + request);
  return *res;
}

// The port `duetctl proxy` printed ("Starting to serve on 127.0.0.1:PORT ...").
uint16_t printed_port(const ChildProcess& proxy) {
  auto out = proxy.output();
  auto at = out.find("127.0.0.1:");
  return at == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(out.substr(at + 10)));
}

class DashboardAccess : public ::testing::Test {
 protected:
  DashboardAccess() {
    std::ofstream(secret_.path() / "node.secret") << kHs256Secret << "\n";
    duetd_ = std::make_unique<DuetdHarness>(std::vector<std::string>{
        "--api", "tcp://127.0.0.1:0", "--api-secret-file", (secret_.path() / "node.secret").string()});
  }

  std::unique_ptr<ChildProcess> start_proxy(const std::string& server, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {bin("duetctl"), "--server", server, "proxy", "--port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto proxy = std::make_unique<ChildProcess>(argv);
    EXPECT_TRUE(proxy->wait_for_output("Starting to serve on")) << proxy->output();
    return proxy;
  }

  TempDir secret_;
  std::unique_ptr<DuetdHarness> duetd_;
};

TEST_F(DashboardAccess, DuetdServesThePageToAllAndTheApiOnlyWithAToken) {
  auto port = duetd_->tcp_api_port();
  auto page = get_raw(port, "GET /ui/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_NE(page.body().find("<script type=\"module\" src=\"app.js\">"), std::string::npos);
  EXPECT_NE(std::string(page["Content-Security-Policy"]).find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(page["X-Content-Type-Options"], "nosniff");
  auto chart = get_raw(port, "GET /ui/chart.min.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(chart.result_int(), 200);
  EXPECT_EQ(chart[http::bhttp::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(get_raw(port, "GET /ui/nothing.js HTTP/1.1\r\nHost: x\r\n\r\n").result_int(), 404);
  EXPECT_EQ(get_raw(port, "GET /ui/../apis/v1/engines HTTP/1.1\r\nHost: x\r\n\r\n").result_int(), 404);
  EXPECT_EQ(get_raw(port, "GET /apis/v1/engines HTTP/1.1\r\nHost: x\r\n\r\n").result_int(), 401);
  EXPECT_EQ(get_raw(port, "GET /apis/v1/traffic HTTP/1.1\r\nHost: x\r\n\r\n").result_int(), 401);
  EXPECT_EQ(get_raw(port, "POST /ui/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").result_int(), 401);
}

TEST_F(DashboardAccess, ProxyPassesTheUsersAccessOnOnlyUnderItsOwnNames) {
  auto proxy = start_proxy(duetd_->api().to_string());
  auto port = printed_port(*proxy);
  ASSERT_NE(port, 0) << proxy->output();
  auto engines = get_raw(port, "GET /apis/v1/engines HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n");
  EXPECT_EQ(engines.result_int(), 200) << engines.body();
  EXPECT_EQ(engines[http::bhttp::field::cache_control], "no-store");
  EXPECT_EQ(json::parse(engines.body(), nullptr, false)["items"], json::array());
  EXPECT_EQ(get_raw(port, "GET /apis/v1/traffic HTTP/1.1\r\nHost: localhost\r\n\r\n").result_int(), 200);
  EXPECT_EQ(get_raw(port, "GET /ui/ HTTP/1.1\r\nHost: localhost:1\r\n\r\n").result_int(), 200);
  // DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1.
  auto rebound = get_raw(port, "GET /apis/v1/engines HTTP/1.1\r\nHost: evil.example:" + std::to_string(port) + "\r\n\r\n");
  EXPECT_EQ(rebound.result_int(), 403);
  EXPECT_NE(rebound.body().find("--accept-hosts"), std::string::npos) << rebound.body();
  // Cross-site request forgery: another page's POST, or its fetch of the API.
  auto forged = "POST /apis/v1/deployments/chat/rollout/promote HTTP/1.1\r\nHost: 127.0.0.1:" +
                std::to_string(port) + "\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(get_raw(port, forged).result_int(), 403);
  EXPECT_EQ(get_raw(port, "GET /apis/v1/engines HTTP/1.1\r\nHost: localhost\r\nSec-Fetch-Site: cross-site\r\n\r\n").result_int(), 403);
  // The page's own POST passes (and duetd answers: no such deployment).
  auto own = "POST /apis/v1/deployments/chat/rollout/promote HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
             "\r\nOrigin: http://127.0.0.1:" + std::to_string(port) + "\r\nSec-Fetch-Site: same-origin\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(get_raw(port, own).result_int(), 404);
  auto extra = start_proxy(duetd_->api().to_string(), {"--accept-hosts", "node1.lab,node1"});
  EXPECT_EQ(get_raw(printed_port(*extra), "GET /healthz HTTP/1.1\r\nHost: node1.lab:8001\r\n\r\n").result_int(), 200);
}

TEST_F(DashboardAccess, ProxySaysWhenDuetdIsUnreachableAndStaysOnLoopback) {
  auto proxy = start_proxy("unix:" + (secret_.path() / "nobody-here.sock").string());
  auto res = get_raw(printed_port(*proxy), "GET /apis/v1/watch HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_NE(res.body().find("cannot reach duetd"), std::string::npos) << res.body();
  auto refused = run_command({bin("duetctl"), "--server", duetd_->api().to_string(), "proxy", "--address", "0.0.0.0"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  EXPECT_NE(refused.out.find("--allow-remote"), std::string::npos) << refused.out;
}

}  // namespace
}  // namespace duet::test
