#include "router/ejection.h"

#include <gtest/gtest.h>

#include "router/route_decision.h"
#include "watch_objects.h"

namespace duet::router {
namespace {

using test::json;
using namespace std::chrono_literals;

struct Ejection : ::testing::Test {
  void SetUp() override {
    json engines = json::array();
    for (std::string i : {"0", "1", "2", "3"})
      engines.push_back(test::engine(std::string("e") += i, "d", std::string("127.0.0.1:1") += i));
    state.apply(test::snapshot(1, json::array(), json::array({test::deployment("d")}), engines));
    table = RoutingTable::build({&state}, loads);
  }
  const Pool& pool() const { return table->deployment("d")->stable; }

  SourceState state;
  EndpointLoads loads;
  std::shared_ptr<const RoutingTable> table;
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
};

TEST_F(Ejection, ConnectionFailureEjectsAtOnceFor5sThenDoubling) {
  const Endpoint& e = pool()[0];
  EXPECT_TRUE(report_failure(pool(), e, Failure::connection, now));
  EXPECT_TRUE(e.load->ejected(now + 4900ms));
  EXPECT_FALSE(e.load->ejected(now + 5s));
  EXPECT_TRUE(report_failure(pool(), e, Failure::connection, now + 5s));
  EXPECT_TRUE(e.load->ejected(now + 14900ms));  // the second in a row: 10 s
  EXPECT_FALSE(e.load->ejected(now + 15s));
  report_success(e);
  EXPECT_TRUE(report_failure(pool(), e, Failure::connection, now + 20s));
  EXPECT_FALSE(e.load->ejected(now + 25s));  // a good response reset the doubling
}

TEST_F(Ejection, FiveHundredsEjectAfterThreeInARow) {
  const Endpoint& e = pool()[0];
  EXPECT_FALSE(report_failure(pool(), e, Failure::status_5xx, now));
  EXPECT_FALSE(report_failure(pool(), e, Failure::status_5xx, now));
  EXPECT_TRUE(report_failure(pool(), e, Failure::status_5xx, now));
  EXPECT_TRUE(e.load->ejected(now));
}

TEST_F(Ejection, AtMostHalfOfAPoolUnlessAllAreFailing) {
  EXPECT_TRUE(report_failure(pool(), pool()[0], Failure::connection, now));
  EXPECT_TRUE(report_failure(pool(), pool()[1], Failure::connection, now));
  EXPECT_FALSE(report_failure(pool(), pool()[2], Failure::connection, now));  // 3 of 4: no
  EXPECT_FALSE(pool()[2].load->ejected(now));
  EXPECT_TRUE(report_failure(pool(), pool()[3], Failure::connection, now));  // all failing
  EXPECT_TRUE(pool()[3].load->ejected(now));
  Rng rng(3);
  EXPECT_EQ(pick_endpoint(pool(), rng, {}, now)->name, "e2");  // the one left in rotation
}

TEST_F(Ejection, EjectionSurvivesATableRebuild) {
  EXPECT_TRUE(report_failure(pool(), pool()[0], Failure::connection, now));
  table = RoutingTable::build({&state}, loads);
  EXPECT_TRUE(pool()[0].load->ejected(now));
}

}  // namespace
}  // namespace duet::router
