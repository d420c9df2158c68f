// Who may do what on the node API, and the record of who did (docs/node-api.md, "Access" and
// "Audit"): tokens on TCP need the audience and a scope that allows the request; every
// mutation is recorded with the socket peer's uid or the token's subject.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "duet/jwt.h"
#include "support/duetd_harness.h"
#include "support/router_process.h"
#include "support/test_keys.h"

namespace duet::test {
namespace {

using nlohmann::json;
namespace bhttp = http::bhttp;

// duetd with its unix socket and a tcp:// API that takes HS256 tokens signed with kHs256Secret.
class NodeApiAccess : public ::testing::Test {
 protected:
  NodeApiAccess() : duetd_(secret_args()) {
    tcp_ = Address::parse("127.0.0.1:" + std::to_string(duetd_.tcp_api_port()));
  }

  std::vector<std::string> secret_args() {
    std::ofstream(dir_ / "node.secret") << kHs256Secret << "\n";
    return {"--api", "tcp://127.0.0.1:0", "--api-secret-file", (dir_ / "node.secret").string()};
  }

  // A token for `sub` with these claims besides (scope, aud), valid for ten minutes.
  static std::string token(const std::string& sub, json claims) {
    claims["sub"] = sub;
    claims["exp"] = epoch_seconds(std::chrono::minutes(10));
    return jwt::mint_hs256(kHs256Secret, claims);
  }
  static std::string scoped(const std::string& sub, const std::string& scope) {
    return token(sub, {{"aud", "duetd"}, {"scope", scope}});
  }

  http::ClientResponse call(bhttp::verb method, const std::string& target, const std::string& bearer,
                            std::string body = {}) {
    auto req = http::make_request(method, target, tcp_);
    req.set(bhttp::field::authorization, "Bearer " + bearer);
    req.body() = std::move(body);
    req.prepare_payload();
    return http::fetch_sync(tcp_, std::move(req), 5s);
  }
  int apply_status(const std::string& bearer, const std::string& name = "sim") {
    return call(bhttp::verb::post, "/apis/v1/apply", bearer, sim_deployment_yaml(name, 0)).result_int();
  }

  TempDir dir_;
  DuetdHarness duetd_;
  Address tcp_;
};

TEST_F(NodeApiAccess, ReadScopeWatchesButItsApplyGets403) {
  auto reader = scoped("dashboard", "duet.read");
  EXPECT_EQ(call(bhttp::verb::get, "/apis/v1/deployments", reader).result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, "/metrics", reader).result_int(), 200);
  auto refused = call(bhttp::verb::post, "/apis/v1/apply", reader, sim_deployment_yaml("sim", 0));
  EXPECT_EQ(refused.result_int(), 403);
  EXPECT_EQ(refused[bhttp::field::www_authenticate],
            "Bearer error=\"insufficient_scope\", scope=\"duet.write\"");
  EXPECT_NE(refused.body().find("lacks scope duet.write for POST /apis/v1/apply"), std::string::npos)
      << refused.body();
  EXPECT_EQ(call(bhttp::verb::delete_, "/apis/v1/deployments/sim", reader).result_int(), 403);
  EXPECT_TRUE(duetd_.get("/apis/v1/deployments")["items"].empty()) << "nothing was applied";

  // A router watches with a read token (and reports traffic with duet.report).
  std::ofstream(dir_ / "router.jwt") << scoped("router-a", "duet.read duet.report") << "\n";
  std::ofstream(dir_ / "router.yaml") << "listen: [{address: \"127.0.0.1:0\"}]\nsources:\n"
                                      << "  - {url: \"http://" << tcp_.to_string()
                                      << "\", tokenFile: " << (dir_ / "router.jwt").string() << "}\n";
  RouterProcess router((dir_ / "router.yaml").string(), {});
  EXPECT_TRUE(router.process().wait_for_output("event=source_synced", 10s)) << router.process().output();
}

TEST_F(NodeApiAccess, EachScopeAllowsWhatItNamesAndNoMore) {
  const std::string report = R"({"router": "r", "items": []})";
  auto traffic = [&](const std::string& bearer) {
    return call(bhttp::verb::post, "/apis/v1/traffic", bearer, report).result_int();
  };
  EXPECT_EQ(traffic(scoped("r", "duet.read")), 403);
  EXPECT_EQ(traffic(scoped("r", "duet.report")), 200);
  EXPECT_EQ(apply_status(scoped("r", "duet.report")), 403);
  EXPECT_EQ(call(bhttp::verb::get, "/apis/v1/deployments", scoped("r", "duet.report")).result_int(), 403);
  EXPECT_EQ(apply_status(scoped("ops", "duet.write"), "by-write"), 200);
  EXPECT_EQ(traffic(scoped("ops", "duet.write")), 200);
  EXPECT_EQ(apply_status(scoped("root", "duet.admin"), "by-admin"), 200);
  // Scopes are whole words of a string claim.
  EXPECT_EQ(apply_status(scoped("x", "duet.writer")), 403);
  EXPECT_EQ(apply_status(token("x", {{"aud", "duetd"}, {"scope", json::array({"duet.write"})}})), 403);
  EXPECT_EQ(call(bhttp::verb::get, "/apis/v1/deployments", token("x", {{"aud", "duetd"}})).result_int(), 403);
}

TEST_F(NodeApiAccess, ATokenForAnotherAudienceOrForNoneIs401) {
  for (const auto& claims : {json{{"scope", "duet.admin"}}, json{{"scope", "duet.admin"}, {"aud", "router"}}}) {
    auto res = call(bhttp::verb::get, "/apis/v1/deployments", token("x", claims));
    EXPECT_EQ(res.result_int(), 401) << claims.dump();
    EXPECT_NE(res[bhttp::field::www_authenticate].find("wrong_audience"), std::string::npos);
  }
  EXPECT_EQ(call(bhttp::verb::get, "/apis/v1/deployments",
                 token("x", {{"scope", "duet.read"}, {"aud", json::array({"router", "duetd"})}}))
                .result_int(),
            200);
}

TEST_F(NodeApiAccess, TheAuditLogNamesTheSocketPeersUidAndTheTokensSubject) {
  ASSERT_EQ(duetd_.duetctl({"apply", "-f", duetd_.write("a.yaml", sim_deployment_yaml("on-socket", 0))}).exit_code, 0);
  ASSERT_EQ(apply_status(scoped("alice", "duet.write"), "over-tcp"), 200);
  EXPECT_EQ(call(bhttp::verb::post, "/apis/v1/apply", scoped("alice", "duet.write"), "kind: Nonsense\n")
                .result_int(),
            400);
  ASSERT_EQ(call(bhttp::verb::delete_, "/apis/v1/deployments/over-tcp", scoped("bob", "duet.write")).result_int(), 200);
  EXPECT_EQ(apply_status(scoped("eve", "duet.read"), "refused-by-scope"), 403);

  auto events = duetd_.get("/apis/v1/events")["items"];
  ASSERT_EQ(events.size(), 4u) << events.dump(2);  // the 403 never reached the API
  auto object_of = [](const json& e) {  // the deployment among the objects (a RuntimeClass too)
    for (const auto& o : e["objects"])
      if (o["kind"] == "EngineDeployment") return o;
    return json();
  };
  const std::string uid = "uid:" + std::to_string(::getuid());
  EXPECT_EQ(events[0]["user"], uid);
  EXPECT_EQ(events[0]["reason"], "Applied");
  EXPECT_EQ(object_of(events[0])["name"], "on-socket");
  EXPECT_EQ(events[1]["user"], "sub:alice");
  EXPECT_EQ(object_of(events[1])["name"], "over-tcp");
  EXPECT_EQ(object_of(events[1])["result"], "created");
  EXPECT_GT(object_of(events[1])["resourceVersion"].get<uint64_t>(), 0u);
  EXPECT_EQ(events[2]["user"], "sub:alice");
  EXPECT_EQ(events[2]["reason"], "ApplyRefused");
  EXPECT_EQ(events[2]["status"], 400);
  EXPECT_FALSE(events[2]["message"].get<std::string>().empty());
  EXPECT_EQ(events[3]["user"], "sub:bob");
  EXPECT_EQ(events[3]["reason"], "Deleted");

  auto shown = duetd_.duetctl({"get", "events"});
  EXPECT_EQ(shown.exit_code, 0) << shown.out;
  EXPECT_NE(shown.out.find(uid), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("sub:bob"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("Deleted"), std::string::npos) << shown.out;
  EXPECT_TRUE(duetd_.process().wait_for_output("event=audit user=sub:bob action=delete"))
      << duetd_.process().output();
}

}  // namespace
}  // namespace duet::test
