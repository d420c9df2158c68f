#include "daemon/checkpoint_file.h"
#include "daemon/node_checkpoint.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace duet::daemon {
namespace {

TEST(CheckpointFile, WritesAndLoads) {
  test::TempDir dir;
  CheckpointFile file(dir / "checkpoint.json");
  EXPECT_EQ(file.load().from, "none");
  file.write({{"generation", 1}});
  file.write({{"generation", 2}});
  auto loaded = file.load();
  EXPECT_EQ(loaded.from, "current");
  EXPECT_EQ(loaded.data["generation"], 2);
  EXPECT_TRUE(loaded.problem.empty());
  EXPECT_FALSE(std::filesystem::exists(dir / "checkpoint.json.tmp"));
}

// The checksum is on disk: a new duetd must verify what the previous release wrote.
TEST(CheckpointFile, LoadsAFileWrittenByAnEarlierRelease) {
  test::TempDir dir;
  std::ofstream(dir / "checkpoint.json")
      << R"({"checksum":"61cdab368bbb85ec","data":{"generation":7}})";
  auto loaded = CheckpointFile(dir / "checkpoint.json").load();
  EXPECT_EQ(loaded.from, "current") << loaded.problem;
  EXPECT_EQ(loaded.data["generation"], 7);
}

TEST(CheckpointFile, DamagedFileIsKeptAsideAndThePreviousUsed) {
  test::TempDir dir;
  CheckpointFile file(dir / "checkpoint.json");
  file.write({{"generation", 1}});
  file.write({{"generation", 2}});
  // Flip one digit of the data: the checksum no longer matches.
  std::string text;
  std::getline(std::ifstream(dir / "checkpoint.json"), text);
  text[text.rfind('2')] = '3';
  std::ofstream(dir / "checkpoint.json") << text;

  auto loaded = file.load();
  EXPECT_EQ(loaded.from, "previous");
  EXPECT_EQ(loaded.data["generation"], 1);
  EXPECT_NE(loaded.problem.find("checksum mismatch"), std::string::npos) << loaded.problem;
  bool kept = false;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    kept = kept || e.path().filename().string().starts_with("checkpoint.json.corrupt-");
  EXPECT_TRUE(kept);
}

TEST(CheckpointFile, TruncatedFileIsNotACheckpoint) {
  test::TempDir dir;
  CheckpointFile file(dir / "checkpoint.json");
  file.write({{"generation", 1}});
  std::ofstream(dir / "checkpoint.json") << "{\"checksum\": \"00";
  auto loaded = file.load();
  EXPECT_EQ(loaded.from, "none");  // no previous file: a first write has none
  EXPECT_NE(loaded.problem.find("unreadable JSON"), std::string::npos);
  EXPECT_TRUE(loaded.state_lost());
}

TEST(CheckpointFile, NoFileIsAFirstStartNotALoss) {
  test::TempDir dir;
  auto loaded = CheckpointFile(dir / "checkpoint.json").load();
  EXPECT_EQ(loaded.from, "none");
  EXPECT_FALSE(loaded.state_lost());
}

TEST(CheckpointFile, BothFilesDamagedIsAStateLossThatLasts) {
  test::TempDir dir;
  CheckpointFile file(dir / "checkpoint.json");
  file.write({{"generation", 1}});
  file.write({{"generation", 2}});
  std::ofstream(dir / "checkpoint.json") << "{\"checksum\": \"00";
  std::ofstream(dir / "checkpoint.json.prev") << "garbage";

  auto loaded = file.load();
  EXPECT_TRUE(loaded.state_lost());
  ASSERT_EQ(loaded.damaged.size(), 2u);
  EXPECT_TRUE(loaded.damaged[0].filename().string().starts_with("checkpoint.json.corrupt-"));
  EXPECT_TRUE(loaded.damaged[1].filename().string().starts_with("checkpoint.json.prev.corrupt-"));
  EXPECT_FALSE(std::filesystem::exists(dir / "checkpoint.json"));
  EXPECT_FALSE(std::filesystem::exists(dir / "checkpoint.json.prev"));
  EXPECT_NE(loaded.problem.find("checkpoint.json.prev: not a checkpoint"), std::string::npos)
      << loaded.problem;

  // The next start finds only what was kept aside: still a loss, not a first start.
  auto again = file.load();
  EXPECT_TRUE(again.state_lost());
  EXPECT_EQ(again.damaged, loaded.damaged);
  // Once a good checkpoint is written (state loss accepted), it is used.
  file.write({{"generation", 0}});
  EXPECT_FALSE(file.load().state_lost());
}

}  // namespace
}  // namespace duet::daemon

namespace duet::daemon {
namespace {

// A change queued for the end of the loop turn is written by flush() when the loop will not
// run again (duetd stopping): SIGTERM right after a replica change loses nothing.
TEST(NodeCheckpoint, FlushWritesWhatWasQueuedWithoutTheLoop) {
  test::TempDir dir;
  boost::asio::io_context io;
  int version = 1;
  NodeCheckpoint checkpoint(io, dir / "checkpoint.json",
                            [&] { return nlohmann::json{{"resourceVersion", 1}, {"objects", {{"n", version}}}}; });
  checkpoint.save_now();
  version = 2;
  checkpoint.save_soon();  // io never runs again
  checkpoint.flush();
  EXPECT_EQ(CheckpointFile(dir / "checkpoint.json").load().data["objects"]["n"], 2);
  version = 3;
  checkpoint.flush();  // nothing queued: nothing written
  EXPECT_EQ(CheckpointFile(dir / "checkpoint.json").load().data["objects"]["n"], 2);
}

}  // namespace
}  // namespace duet::daemon
