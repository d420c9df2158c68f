#pragma once
// The change feed of duetd: a resourceVersion that grows on every change, and the
// `GET /apis/v1/watch` streams (a snapshot, then each change, NDJSON; docs/node-api.md).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <deque>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <vector>

#include "duet/common/http_server.h"

namespace duet::daemon {

class WatchHub {
 public:
  // Fills the snapshot's lists (runtimeclasses, deployments, routes, engines).
  using SnapshotSource = std::function<void(nlohmann::json& snapshot)>;

  explicit WatchHub(boost::asio::io_context& io);

  void set_snapshot_source(SnapshotSource source) { snapshot_source_ = std::move(source); }
  uint64_t resource_version() const { return version_; }
  // Continues from a checkpointed resourceVersion after a restart (before any publish).
  void restore_version(uint64_t version) { version_ = version; }
  // Runs after every publish (duetd schedules a checkpoint write).
  void set_on_publish(std::function<void()> callback) { on_publish_ = std::move(callback); }
  // Takes the next resourceVersion for a change and sends it to every watcher.
  // type: ADDED | MODIFIED | DELETED; kind: RuntimeClass | EngineDeployment | Route | Engine.
  uint64_t publish(const char* type, const std::string& kind, nlohmann::json object);
  // Starts a watch stream on `exchange` (runs on the daemon's loop). With `since` (the
  // client's last resourceVersion) still in the recent history, the stream resumes: a
  // BOOKMARK at `since`, then the changes after it; otherwise it starts with a SNAPSHOT.
  void subscribe(std::shared_ptr<http::Exchange> exchange, std::optional<uint64_t> since = {});
  // Ends every stream (shutdown).
  void close_all();

 private:
  void send_line(const std::shared_ptr<http::Exchange>& watcher, const std::string& line);
  bool can_resume_from(uint64_t since) const;
  void remember(uint64_t version, std::string line);
  void schedule_bookmark();

  boost::asio::steady_timer bookmark_timer_;
  SnapshotSource snapshot_source_;
  uint64_t version_ = 0;
  std::vector<std::shared_ptr<http::Exchange>> watchers_;
  std::deque<std::pair<uint64_t, std::string>> history_;  // recent change lines, oldest first
  std::size_t history_bytes_ = 0;
  std::function<void()> on_publish_;
};

}  // namespace duet::daemon
