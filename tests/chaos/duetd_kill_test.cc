// The chaos suite, duetd side: SIGKILL in the middle of a stream of applies, twice. An
// apply is acknowledged only once it is on disk (docs/decisions.md), so whatever duetd
// acknowledged before a kill is there after the restart, and the state it comes back with
// is never damaged (a damaged one would stop it with exit code 3).

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "support/duetd_harness.h"

namespace duet::test {
namespace {

namespace bhttp = http::bhttp;

std::string runtime_class(int i) {
  return "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: rc-" +
         std::to_string(i) + "}\nhandler: cpu\n";
}

TEST(ChaosDuetd, SigkillMidApplyLosesNoAcknowledgedObject) {
  DuetdHarness d;
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<int> acked{0}, failed{0};
  std::atomic<bool> stop{false};
  std::thread applier([&] {
    for (int i = 0; !stop; ++i) {
      try {
        auto res = d.request(bhttp::verb::post, "/apis/v1/apply?source=chaos.yaml",
                             runtime_class(i));
        if (res.result_int() == 200) {
          std::lock_guard lock(mutex);
          acknowledged.insert("rc-" + std::to_string(i));
          ++acked;
          continue;
        }
      } catch (const std::exception&) {
        // duetd is down between the kill and the restart: the apply was not acknowledged.
      }
      ++failed;
    }
  });

  for (int round = 1; round <= 2; ++round) {
    int before = acked.load();
    ASSERT_TRUE(eventually([&] { return acked.load() >= before + 30; }, 60s));
    d.restart(SIGKILL);  // while the applier is in the middle of its next apply
  }
  int before = acked.load();
  ASSERT_TRUE(eventually([&] { return acked.load() >= before + 10; }, 60s))
      << "the duetd after the kills does not apply: " << d.process().output();
  stop = true;
  applier.join();

  auto stored = d.get("/apis/v1/runtimeclasses");
  std::set<std::string> names;
  for (const auto& item : stored["items"]) names.insert(item["metadata"]["name"].get<std::string>());
  for (const auto& name : acknowledged) EXPECT_TRUE(names.count(name)) << name << " was lost";
  EXPECT_GE(names.size(), acknowledged.size());
}

}  // namespace
}  // namespace duet::test
