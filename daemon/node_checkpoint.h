#pragma once
// duetd's checkpoint in --state-dir: desired state, resourceVersion and the running
// replicas, written atomically (CheckpointFile) on every change. Applies write it before
// they are answered; replica changes are coalesced into one write per loop turn, and a
// write that would not change the file is skipped.

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/checkpoint_file.h"

namespace duet::daemon {

class NodeCheckpoint {
 public:
  // `collect` gives the state to write: {"resourceVersion", "objects", "engines"}.
  using Collect = std::function<nlohmann::json()>;

  NodeCheckpoint(boost::asio::io_context& io, std::filesystem::path path, Collect collect);

  // The newest good checkpoint (null data when there is none); a damaged file is logged,
  // kept aside and the previous one used.
  CheckpointFile::Loaded load();
  // Writes now; throws std::system_error naming the file.
  void save_now();
  // Writes at the end of this loop turn; failures are logged (the next change tries again).
  void save_soon();

 private:
  boost::asio::io_context& io_;
  CheckpointFile file_;
  Collect collect_;
  std::string last_written_;  // the state last written, resourceVersion left out
  bool queued_ = false;
};

}  // namespace duet::daemon
