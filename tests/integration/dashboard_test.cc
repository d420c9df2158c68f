// The dashboard in a real browser (issue 23): Debian's headless Chromium over the DevTools
// protocol against `duetctl dashboard` and a real duetd with duet-sim engines on a fake device
// tree. The page follows the watch stream: a killed engine's row turns Restarting within 2 s,
// a rollout started from the CLI shows its weight, Promote on the page promotes it, a device
// that goes away turns red; on duetd's own TCP listener the page asks for a token; a duetd
// that goes away is said plainly, and followed again when it is back.
// DUET_DASHBOARD_SCREENSHOTS=DIR also writes a PNG of each view there (docs/dashboard-*.png).
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "duet/jwt.h"
#include "support/cdp_browser.h"
#include "support/duetd_harness.h"
#include "support/fake_tree.h"
#include "support/test_keys.h"

namespace duet::test {
namespace {

using nlohmann::json;

std::string npu_canary(const std::string& version) {
  return "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: npu}\nhandler: ascend\n---\n"
         "apiVersion: duet/v1alpha1\nkind: EngineDeployment\nmetadata: {name: chat}\nspec:\n"
         "  runtimeClassName: npu\n  replicas: 2\n  version: " + version + "\n"
         "  resources: {devices: 1}\n"
         "  template:\n"
         "    command: [duet-sim, --port, \"${PORT}\", --model, deepseek-r1]\n"
         "    readinessProbe: {httpGet: {path: /health}, periodSeconds: 1}\n"
         "    terminationGracePeriodSeconds: 5\n"
         "  strategy:\n    type: Canary\n    canary:\n      replicas: 1\n"
         "      steps: [{setWeight: 30}, {pause: {}}]\n"
         "      analysis: {interval: 2s, failureLimit: 2, minSuccessRate: 0.95, maxP99LatencyMs: 1000, minRequests: 5}\n";
}

// What a router posts once a second: `requests` for the canary, three times as many for
// stable, a few slow.
std::string traffic_report(int requests) {
  json histogram = {{"bounds", {0.01, 0.05, 0.1, 0.5}}, {"counts", {requests / 2, requests / 3, requests / 6, 1, 0}}};
  json items = json::array();
  for (bool canary : {false, true})
    items.push_back({{"deployment", "chat"}, {"track", canary ? "canary" : "stable"}, {"version", canary ? "r2" : "r1"},
                     {"requests", canary ? requests : 3 * requests}, {"errors", {{"status5xx", canary ? 1 : 0}}},
                     {"firstByteSeconds", histogram},
                     {"durationSeconds", {{"bounds", {0.01, 0.05, 0.1, 0.5}}, {"counts", {0, requests / 4, requests / 2, requests / 4, 1}}}}});
  return json{{"router", "test-router"}, {"items", items}}.dump();
}

class DashboardInBrowser : public ::testing::Test {
 protected:
  DashboardInBrowser() {
    tree_.add_ascend(4);
    tree_.add_nvidia_control();
    tree_.add_nvidia_gpu({0, "GPU-aaaa", "NVIDIA H20", "0000:00:06.0", 0, {}});
    tree_.add_nvidia_gpu({1, "GPU-bbbb", "NVIDIA H20", "0000:00:07.0", 0, {}});
    tree_.add_cambricon(2);
    FakeCpus cpus;
    cpus.cpus_per_node = 2;
    cpus.cpuinfo = FakeTree::x86_cpuinfo(2);
    tree_.add_cpus(cpus);
    std::ofstream(secret_.path() / "node.secret") << kHs256Secret << "\n";
    duetd_ = std::make_unique<DuetdHarness>(std::vector<std::string>{
        "--dev-root", tree_.path("dev"), "--sys-root", tree_.path("sys"), "--proc-root", tree_.path("proc"),
        "--api", "tcp://127.0.0.1:0", "--api-secret-file", (secret_.path() / "node.secret").string()});
    const char* shots = std::getenv("DUET_DASHBOARD_SCREENSHOTS");
    screenshots_ = shots ? shots : "";
  }

  void apply(const std::string& yaml) {
    auto path = duetd_->write("chat.yaml", yaml);
    auto result = duetd_->duetctl({"apply", "-f", path});
    ASSERT_EQ(result.exit_code, 0) << result.out;
  }

  // `duetctl dashboard` on an ephemeral port; the URL it prints.
  std::string start_dashboard() {
    proxy_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        bin("duetctl"), "--server", duetd_->api().to_string(), "dashboard", "--port", "0"});
    EXPECT_TRUE(proxy_->wait_for_output("/ui/\n")) << proxy_->output();
    auto out = proxy_->output();
    auto at = out.find("Dashboard: ");
    if (at == std::string::npos) return "";
    return out.substr(at + 11, out.find('\n', at) - at - 11);
  }

  void shoot(CdpBrowser& browser, const std::string& view) {
    if (screenshots_.empty()) return;
    browser.eval("location.hash = '" + view + "'; new Promise((r) => setTimeout(r, 400))");
    browser.screenshot(screenshots_ + "/dashboard-" + view + ".png");
  }

  FakeTree tree_;
  TempDir secret_;
  std::unique_ptr<DuetdHarness> duetd_;
  std::unique_ptr<ChildProcess> proxy_;
  std::string screenshots_;
};

TEST_F(DashboardInBrowser, FollowsTheNodeLiveAndPromotesARollout) {
  auto started = std::chrono::steady_clock::now();
  apply(npu_canary("r1"));
  ASSERT_TRUE(eventually([&] { return duetd_->ready_engines("chat") == 2; }, 20s));
  auto url = start_dashboard();
  ASSERT_FALSE(url.empty()) << proxy_->output();
  CdpBrowser browser(url);

  // Devices: every kind of the fake tree, a card each, and which replica holds which.
  auto devices = duetd_->get("/apis/v1/devices")["items"].size();
  ASSERT_TRUE(browser.wait_until("document.querySelectorAll('[data-device]').length == " + std::to_string(devices), 15s))
      << browser.eval("document.body.innerText");
  for (const char* kind : {"ascend", "nvidia", "mlu", "cpu"}) {
    EXPECT_TRUE(browser.eval(std::string("!!document.querySelector('[data-device^=\"") + kind + "/\"]')") == true) << kind;
  }
  EXPECT_TRUE(browser.wait_until("document.body.innerText.includes('held by chat-0')", 5s));
  EXPECT_TRUE(browser.eval("typeof Chart") == "function");  // Debian's Chart.js, embedded

  // Replicas; a killed engine's row says Restarting within 2 s, without a reload.
  browser.eval("location.hash = 'deployments'");
  ASSERT_TRUE(browser.wait_until("document.querySelector('[data-engine=\"chat-0\"][data-state=\"Ready\"]')", 10s))
      << browser.eval("document.body.innerText");
  browser.eval(R"(window.seen = []; new MutationObserver(() => {
      const row = document.querySelector('[data-engine="chat-0"]');
      if (row) window.seen.push(row.dataset.display);
    }).observe(document.body, {subtree: true, childList: true, attributes: true}); true)");
  int pid = duetd_->get("/apis/v1/engines/chat-0")["pid"];
  ::kill(pid, SIGKILL);
  auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(browser.wait_until("window.seen.includes('Restarting')", 2s)) << browser.eval("window.seen");
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed);
  std::cout << "killed engine's row turned Restarting after " << took.count() << " ms\n";
  ASSERT_TRUE(eventually([&] { return duetd_->ready_engines("chat") == 2; }, 20s));

  // A rollout started from the CLI appears with its weight.
  apply(npu_canary("r2"));
  browser.eval("location.hash = 'rollouts'");
  ASSERT_TRUE(browser.wait_until("document.querySelector('[data-rollout=\"chat\"][data-weight=\"30\"]')", 20s))
      << browser.eval("document.body.innerText");
  EXPECT_TRUE(browser.eval("document.querySelector('.steps li.current').textContent") == "pause until promoted");

  // Traffic, as routers report it, in the charts.
  for (int i = 0; i < (screenshots_.empty() ? 1 : 8); ++i) {
    auto posted = duetd_->request(http::bhttp::verb::post, "/apis/v1/traffic", traffic_report(40 + i * 7));
    ASSERT_EQ(posted.result_int(), 200) << posted.body();
    if (!screenshots_.empty()) browser.eval("new Promise((r) => setTimeout(r, 2000))");
  }
  browser.eval("location.hash = 'traffic'");
  EXPECT_TRUE(browser.wait_until("document.querySelector('[data-traffic=\"chat\"]')", 6s))
      << browser.eval("document.body.innerText");
  shoot(browser, "traffic");
  shoot(browser, "rollouts");
  shoot(browser, "deployments");

  // Promote from the page, confirmed in its dialog; the CLI sees the canary become stable.
  browser.eval("location.hash = 'rollouts'");
  ASSERT_TRUE(browser.wait_until("!document.getElementById('promote-chat').disabled", 5s));
  browser.eval("document.getElementById('promote-chat').click(); true");
  ASSERT_TRUE(browser.wait_until("document.getElementById('confirm').open", 5s));
  browser.eval("document.getElementById('confirm-ok').click(); true");
  ASSERT_TRUE(eventually([&] {
    auto out = duetd_->duetctl({"get", "deployments", "chat", "-o", "json"});
    auto d = json::parse(out.out, nullptr, false);
    return d.is_object() && d["status"]["rollout"].value("stableVersion", "") == "r2";
  }, 20s)) << duetd_->duetctl({"get", "deployments", "chat", "-o", "json"}).out;

  // A device that goes away turns red, with its reason, within the plugins' 5 s.
  browser.eval("location.hash = 'devices'");
  tree_.remove("dev/davinci3");
  ASSERT_TRUE(browser.wait_until("document.querySelector('[data-device=\"ascend/3\"].unhealthy .reason')", 10s))
      << browser.eval("document.body.innerText");
  shoot(browser, "devices");

  // duetd's own TCP listener: the page loads without a token and then asks for one.
  auto tcp = "http://127.0.0.1:" + std::to_string(duetd_->tcp_api_port()) + "/ui/";
  browser.eval("sessionStorage.clear(); location.href = '" + tcp + "'; true");
  ASSERT_TRUE(browser.wait_until("document.getElementById('token-box') && !document.getElementById('token-box').hidden", 10s))
      << browser.eval("document.body.innerText");
  EXPECT_TRUE(browser.eval("document.getElementById('banner').textContent.startsWith('401')") == true);
  auto token = jwt::mint_hs256(kHs256Secret, {{"sub", "viewer"},
                                              {"aud", "duetd"},
                                              {"scope", "duet.read"},
                                              {"exp", std::time(nullptr) + 600}});
  browser.eval("document.getElementById('token-input').value = '" + token + "'; document.getElementById('token-save').click(); true");
  EXPECT_TRUE(browser.wait_until("document.querySelectorAll('[data-device]').length > 0", 10s));
  EXPECT_TRUE(browser.eval("location.href.includes('eyJ')") == false);  // never in a URL

  // Back on the proxy, duetd goes away: the page says so plainly, then follows the new one.
  browser.eval("location.href = '" + url + "#deployments'; true");
  ASSERT_TRUE(browser.wait_until("document.querySelector('[data-engine=\"chat-0\"]')", 10s));
  duetd_->restart(SIGKILL, [&] {
    EXPECT_TRUE(browser.wait_until("document.getElementById('banner').textContent.includes('cannot reach duetd')", 10s))
        << browser.eval("document.getElementById('banner').textContent");
    EXPECT_TRUE(browser.eval("document.getElementById('conn').dataset.status") == "reconnecting");
  });
  EXPECT_TRUE(browser.wait_until("document.getElementById('conn').dataset.status == 'live' && "
                                 "document.getElementById('banner').hidden", 15s))
      << browser.eval("document.getElementById('banner').textContent");
  std::cout << "browser test body took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()
            << " ms\n";
}

}  // namespace
}  // namespace duet::test
