#pragma once
// The fixture of duet-router's TLS tests: a TLS listener with minVersion "1.2" and a fresh
// RSA certificate (so that TLS 1.2 RSA key exchange could be chosen if it were allowed), in
// front of one duet-sim behind a fake duetd.

#include <memory>
#include <string>

#include "support/router_process.h"
#include "support/sim_process.h"
#include "support/test_keys.h"
#include "watch_objects.h"

namespace duet::router {

class TlsRouterTest : public duet::test::RouterTest {
 protected:
  void SetUp() override {
    using nlohmann::json;
    sim_ = std::make_unique<duet::test::SimProcess>(
        std::vector<std::string>{"--model", "m", "--name", "e-0"});
    start_duetd(test::snapshot(
        1, json::array({test::backend_route("chat", "d")}), json::array({test::deployment("d")}),
        json::array({test::engine("e-0", "d", duet::test::endpoint_of(*sim_))})));
    duet::test::write_self_signed(cert(), key(), "duet-test", /*rsa=*/true);
    start_router("listen: [{address: '127.0.0.1:0', tls: {cert: " + cert() + ", key: " + key() +
                     ", minVersion: '1.2'}}]\n",
                 {});
  }
  std::string cert() const { return (dir_ / "tls.crt").string(); }
  std::string key() const { return (dir_ / "tls.key").string(); }
  uint16_t port() const { return router_->tls().port; }

  std::unique_ptr<duet::test::SimProcess> sim_;
};

}  // namespace duet::router
