#pragma once
// duetd's checkpoint in --state-dir: desired state, resourceVersion and the running
// replicas, written atomically (CheckpointFile) on every change. Applies write it before
// they are answered; replica changes are coalesced into one write per loop turn, and a
// write that would not change the file is skipped.

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "daemon/checkpoint_file.h"

namespace duet::daemon {

// Damaged checkpoint files and no good one, without --accept-state-loss: duetd does not
// start. Starting empty would publish an empty state that routers follow (every route gone)
// and lose every deployment the engines still run for. duetd exits with kStateLostExit.
class StateLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
inline constexpr int kStateLostExit = 3;

class NodeCheckpoint {
 public:
  // `collect` gives the state to write: {"resourceVersion", "objects", "engines"}.
  using Collect = std::function<nlohmann::json()>;

  NodeCheckpoint(boost::asio::io_context& io, std::filesystem::path path, Collect collect);

  // The newest good checkpoint (null data when there is none); a damaged file is logged,
  // kept aside and the previous one used. With damaged files and no good one: throws
  // StateLost naming them, or with `accept_state_loss` says so at error level and writes
  // the empty state at once, so that the next start takes it.
  CheckpointFile::Loaded load(bool accept_state_loss);
  // Writes now; throws std::system_error naming the file.
  void save_now();
  // Writes at the end of this loop turn; failures are logged (the next change tries again).
  void save_soon();
  // Writes now what save_soon() queued, if anything: before the loop stops, so that a
  // change made in the last turn is not lost with the queued write.
  void flush();

 private:
  boost::asio::io_context& io_;
  CheckpointFile file_;
  Collect collect_;
  std::string last_written_;  // the state last written, resourceVersion left out
  bool queued_ = false;
};

}  // namespace duet::daemon
