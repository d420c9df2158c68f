// packaging/grafana/duet.json and packaging/prometheus/alerts.yml against what the code
// exports: a real duetd (fake device tree, the demo applied) and a real duet-router in front of
// it serve traffic, and every metric and label the dashboard and the alerts query must be in
// their /metrics. promtool checks the rules where Debian's prometheus package is installed.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <cstring>
#include <sstream>
#include <set>

#include "duet/common/file_text.h"
#include "packaging/package_files.h"
#include "support/duetd_harness.h"
#include "support/fake_tree.h"
#include "support/router_process.h"

namespace duet::test {
namespace {

using nlohmann::json;

// Labels every Prometheus series has or a histogram adds.
const std::set<std::string> kScrapeLabels = {"le", "job", "instance"};

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }

// The identifier starting at `at` (metric or label name); moves `at` past it.
std::string read_name(const std::string& text, std::size_t& at) {
  auto start = at;
  while (at < text.size() && name_char(text[at])) ++at;
  return text.substr(start, at - start);
}

// Label names of a `{name="value", name=~"value"}` block starting after its `{`; moves `at`
// past the `}`. Values are skipped, escapes and all.
std::set<std::string> read_label_names(const std::string& text, std::size_t& at) {
  std::set<std::string> names;
  while (at < text.size() && text[at] != '}') {
    while (at < text.size() && (text[at] == ' ' || text[at] == ',')) ++at;
    auto name = read_name(text, at);
    if (!name.empty()) names.insert(name);
    at = text.find('"', at);
    if (at == std::string::npos) return names;
    for (++at; at < text.size() && text[at] != '"'; ++at)
      if (text[at] == '\\') ++at;
    ++at;
    while (at < text.size() && text[at] != ',' && text[at] != '}') ++at;
  }
  ++at;
  return names;
}

std::string family_of(std::string series) {
  for (const char* suffix : {"_bucket", "_sum", "_count"})
    if (series.ends_with(suffix)) return series.substr(0, series.size() - std::strlen(suffix));
  return series;
}

// Metric families of a Prometheus text exposition, with the label names their samples carry.
struct Exposition {
  std::map<std::string, std::set<std::string>> families;

  void add(const std::string& text) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("# TYPE ")) {
        auto w = words(line);
        if (w.size() >= 3) families[w[2]];
        continue;
      }
      if (line.empty() || line[0] == '#') continue;
      std::size_t at = 0;
      auto& labels = families[family_of(read_name(line, at))];
      if (at < line.size() && line[at] == '{') {
        ++at;
        labels.merge(read_label_names(line, at));
      }
    }
  }
};

// The duet metrics and the label names (other than le, job, instance) a PromQL expression uses:
// in selectors `{label="..."}` and in `by (...)` / `without (...)`.
struct Query {
  std::set<std::string> metrics;
  std::set<std::string> labels;

  explicit Query(const std::string& expr) {
    std::string previous;
    for (std::size_t at = 0; at < expr.size();) {
      if (expr[at] == '"') {  // a string outside a selector (e.g. label_replace's arguments)
        at = expr.find('"', at + 1);
        at = at == std::string::npos ? expr.size() : at + 1;
      } else if (expr[at] == '{') {
        ++at;
        labels.merge(read_label_names(expr, at));
      } else if (expr[at] == '[') {  // a range: [5m], [$__rate_interval]
        at = expr.find(']', at);
        at = at == std::string::npos ? expr.size() : at + 1;
      } else if (expr[at] == '(' && (previous == "by" || previous == "without")) {
        auto end = expr.find(')', at);
        std::string inside = expr.substr(at + 1, end - at - 1);
        for (char& c : inside)
          if (c == ',') c = ' ';
        for (auto& name : words(inside)) labels.insert(name);
        previous.clear();
        at = end == std::string::npos ? expr.size() : end + 1;
      } else if (name_char(expr[at])) {
        previous = read_name(expr, at);
        if (previous.starts_with("duet_")) metrics.insert(family_of(previous));
      } else {
        if (expr[at] != ' ' && expr[at] != '\n') previous.clear();
        ++at;
      }
    }
    for (const auto& l : kScrapeLabels) labels.erase(l);
  }
};

std::vector<std::string> dashboard_queries() {
  auto dashboard = json::parse(read_text_file(source_path("packaging/grafana/duet.json")).value());
  std::vector<std::string> out;
  for (const auto& panel : dashboard["panels"])
    for (const auto& target : panel.value("targets", json::array())) out.push_back(target["expr"]);
  return out;
}

YAML::Node alert_rules() { return YAML::LoadFile(source_path("packaging/prometheus/alerts.yml").string()); }

std::vector<std::string> alert_queries() {
  std::vector<std::string> out;
  for (const auto& group : alert_rules()["groups"])
    for (const auto& rule : group["rules"]) out.push_back(rule["expr"].as<std::string>());
  return out;
}

// duetd on a fake host with NPUs, MLUs and CPUs, the demo applied, and duet-router in front
// of it, started from the packaged router.yaml (its listener and source moved by flags).
class LiveMetrics : public ::testing::Test {
 protected:
  LiveMetrics() {
    tree_.add_ascend(8);
    tree_.add_cambricon(2);
    FakeCpus cpus;
    cpus.cpus_per_node = 2;
    cpus.cpuinfo = FakeTree::x86_cpuinfo(2);
    tree_.add_cpus(cpus);
    duetd_ = std::make_unique<DuetdHarness>(std::vector<std::string>{
        "--dev-root", tree_.path("dev"), "--sys-root", tree_.path("sys"), "--proc-root", tree_.path("proc")});
    auto applied = duetd_->duetctl({"apply", "-f", source_path("manifests/examples/demo.yaml").string()});
    if (applied.exit_code != 0) throw std::runtime_error(applied.out);
    router_ = std::make_unique<RouterProcess>(source_path("packaging/etc/router.yaml").string(),
                                              std::vector<std::string>{"--listen", "127.0.0.1:0", "--source",
                                                                       duetd_->api().to_string()});
  }

  // One completion through the router, so that its histograms have samples.
  void send_traffic() {
    ASSERT_TRUE(eventually([&] { return duetd_->ready_engines("chat-small") > 0; }, 20s));
    ASSERT_TRUE(eventually([&] { return router_->ready(); }, 10s));
    bool served = eventually(
        [&] { return router_->post("/v1/completions", completion("hi", 2, false, "deepseek-r1")).result_int() == 200; },
        10s);
    ASSERT_TRUE(served) << router_->process().output();
  }

  Exposition scrape() {
    Exposition exposition;
    auto daemon = duetd_->request(http::bhttp::verb::get, "/metrics");
    EXPECT_EQ(daemon.result_int(), 200);
    exposition.add(daemon.body());
    auto router = router_->admin("/metrics");
    EXPECT_EQ(router.result_int(), 200);
    exposition.add(router.body());
    return exposition;
  }

  FakeTree tree_;
  std::unique_ptr<DuetdHarness> duetd_;
  std::unique_ptr<RouterProcess> router_;
};

TEST_F(LiveMetrics, DashboardAndAlertsQueryOnlyWhatTheBinariesExport) {
  send_traffic();
  auto exposition = scrape();
  ASSERT_TRUE(exposition.families.contains("duet_devices")) << "duetd exports no duet_devices";

  auto queries = dashboard_queries();
  auto alerts = alert_queries();
  queries.insert(queries.end(), alerts.begin(), alerts.end());
  ASSERT_GE(queries.size(), 15u);
  for (const auto& expr : queries) {
    Query query(expr);
    EXPECT_FALSE(query.metrics.empty()) << "no duet metric in " << expr;
    std::set<std::string> labels_available;
    bool all_exported = true;
    for (const auto& metric : query.metrics) {
      auto family = exposition.families.find(metric);
      if (family == exposition.families.end()) {
        all_exported = false;
        ADD_FAILURE() << metric << " is not exported (" << expr << ")";
        continue;
      }
      labels_available.insert(family->second.begin(), family->second.end());
    }
    if (!all_exported) continue;
    for (const auto& label : query.labels)
      EXPECT_TRUE(labels_available.contains(label)) << "no label " << label << " on the metrics of " << expr;
  }
}

TEST(Dashboard, PanelsCoverTheOperatorsQuestions) {
  auto dashboard = json::parse(read_text_file(source_path("packaging/grafana/duet.json")).value());
  EXPECT_EQ(dashboard["uid"], "duet-overview");
  std::set<int> ids;
  std::string all_queries;
  for (const auto& panel : dashboard["panels"]) {
    EXPECT_TRUE(ids.insert(panel["id"].get<int>()).second) << "duplicate panel id " << panel["id"];
    if (panel["type"] == "row") continue;
    EXPECT_FALSE(panel["targets"].empty()) << panel["title"];
    EXPECT_EQ(panel["datasource"]["uid"], "${datasource}") << panel["title"];
    for (const auto& target : panel["targets"]) all_queries += target["expr"].get<std::string>() + "\n";
  }
  // Issue 8's list: rate by pool and version, p50/p99, first byte, ejections, replicas by
  // state, rollout weight, devices by health.
  for (const char* needed :
       {"sum by (pool, version) (rate(duet_router_requests_total", "histogram_quantile(0.5, sum by (le, pool) (rate(duet_router_request_duration_seconds_bucket",
        "histogram_quantile(0.99, sum by (le, pool) (rate(duet_router_request_duration_seconds_bucket",
        "duet_router_first_byte_seconds_bucket", "duet_router_ejections_total",
        "sum by (deployment, state) (duet_engine_replicas", "duet_rollout_weight", "sum by (kind, health) (duet_devices"})
    EXPECT_NE(all_queries.find(needed), std::string::npos) << needed;
}

TEST(AlertRules, EveryRuleIsCompleteAndTheSetIsWhatIssue8Asks) {
  std::set<std::string> names;
  for (const auto& group : alert_rules()["groups"]) {
    ASSERT_TRUE(group["name"]);
    for (const auto& rule : group["rules"]) {
      auto name = rule["alert"].as<std::string>();
      EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
      EXPECT_TRUE(rule["for"]) << name;
      EXPECT_TRUE(rule["labels"]["severity"]) << name;
      EXPECT_TRUE(rule["annotations"]["summary"]) << name;
      EXPECT_TRUE(rule["annotations"]["description"]) << name;
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"DuetRouterP99LatencyHigh", "DuetRouterErrorRateHigh",
                                          "DuetDeviceUnhealthy", "DuetEngineCrashLooping",
                                          "DuetRolloutDegraded"}));
  auto queries = alert_queries();
  bool p99 = std::any_of(queries.begin(), queries.end(), [](const std::string& q) {
    return q.find("histogram_quantile(0.99") != std::string::npos && q.find("> 1.2") != std::string::npos;
  });
  EXPECT_TRUE(p99) << "no alert on p99 above 1200 ms";
}

TEST(AlertRules, PromtoolChecksThem) {
  auto promtool = program_path("promtool");
  if (promtool.empty())
    GTEST_SKIP() << "promtool is not installed (Debian's prometheus package, ~100 MB, is not in "
                    "tools/install-deps.sh)";
  auto result = run_command({promtool, "check", "rules", source_path("packaging/prometheus/alerts.yml").string()});
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("SUCCESS: 5 rules found"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace duet::test
