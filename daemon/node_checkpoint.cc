#include "daemon/node_checkpoint.h"

#include <boost/asio/post.hpp>

#include "daemon/daemon_logger.h"

namespace duet::daemon {

NodeCheckpoint::NodeCheckpoint(boost::asio::io_context& io, std::filesystem::path path,
                               Collect collect)
    : io_(io), file_(std::move(path)), collect_(std::move(collect)) {}

CheckpointFile::Loaded NodeCheckpoint::load(bool accept_state_loss) {
  auto loaded = file_.load();
  if (!loaded.problem.empty())
    checkpoint_logger().error("checkpoint_damaged",
                              {{"problem", loaded.problem}, {"using", loaded.from}});
  if (loaded.state_lost()) {
    std::string files;
    for (const auto& f : loaded.damaged) files += (files.empty() ? "" : ", ") + f.string();
    if (!accept_state_loss) {
      checkpoint_logger().error("checkpoint_state_lost", {{"damaged", files}, {"starting", false}});
      throw StateLost("no good checkpoint in " + file_.path().parent_path().string() +
                      ", only damaged files (kept aside: " + files +
                      "). Starting empty would drop every deployment and route; put a good "
                      "checkpoint back as " +
                      file_.path().filename().string() +
                      ", or start once with --accept-state-loss to start empty");
    }
    checkpoint_logger().error(
        "state_loss_accepted",
        {{"damaged", files}, {"starting", "empty"}, {"flag", "--accept-state-loss"}});
    save_now();
  }
  checkpoint_logger().info("checkpoint_loaded",
                           {{"file", file_.path().string()}, {"from", loaded.from}});
  return loaded;
}

void NodeCheckpoint::save_now() {
  auto data = collect_();
  // resourceVersion alone moves on every event; it is written along with real changes.
  auto version = data["resourceVersion"];
  data.erase("resourceVersion");
  auto text = data.dump();
  if (text == last_written_) return;
  data["resourceVersion"] = version;
  file_.write(data);
  last_written_ = std::move(text);
}

void NodeCheckpoint::save_soon() {
  if (queued_) return;
  queued_ = true;
  boost::asio::post(io_, [this] { flush(); });
}

void NodeCheckpoint::flush() {
  if (!queued_) return;
  queued_ = false;
  try {
    save_now();
  } catch (const std::exception& e) {
    checkpoint_logger().error("checkpoint_write_failed", {{"error", e.what()}});
  }
}

}  // namespace duet::daemon
