#pragma once
// The change feed of duetd: a resourceVersion that grows on every change, the stateEpoch
// that names the state it counts in, and the `GET /apis/v1/watch` streams (a snapshot, then
// each change, NDJSON; docs/node-api.md).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "duet/api/enums.h"
#include "duet/common/http_server.h"

namespace duet::daemon {

class WatchHub {
 public:
  // Fills the snapshot's lists (runtimeclasses, deployments, routes, engines).
  using SnapshotSource = std::function<void(nlohmann::json& snapshot)>;

  explicit WatchHub(boost::asio::io_context& io);

  void set_snapshot_source(SnapshotSource source) { snapshot_source_ = std::move(source); }
  uint64_t resource_version() const { return version_; }
  // A random id made with a new (empty) state and kept with it across restarts: watchers
  // tell a duetd that lost its state from one that restarted (router static stability).
  const std::string& state_epoch() const { return epoch_; }
  // The node's name, sent in every SNAPSHOT (`node`) so that a router over several nodes
  // can say which one answered.
  void set_node_name(std::string name) { node_ = std::move(name); }
  // What the checkpoint keeps for the hub: {"stateEpoch", "reservedVersion"}.
  nlohmann::json checkpoint_json() const;
  // After a restart with state (before any publish): the checkpoint's stateEpoch, and a
  // resourceVersion past every one handed out, `version` or the reserved one.
  void restore(uint64_t version, const nlohmann::json& saved);
  // Writes the checkpoint now; throws on failure. The hub calls it before it hands out a
  // resourceVersion past the reserved one, so a restart never goes back (even after kill -9).
  void set_persist(std::function<void()> persist) { persist_ = std::move(persist); }
  // Runs after every publish (duetd schedules a checkpoint write).
  void set_on_publish(std::function<void()> callback) { on_publish_ = std::move(callback); }
  // Takes the next resourceVersion for a change and sends it to every watcher.
  // type: added | modified | deleted; kind: RuntimeClass | EngineDeployment | Route | Engine
  // | Device.
  uint64_t publish(api::WatchEventType type, const std::string& kind, nlohmann::json object);
  // Starts a watch stream on `exchange` (runs on the daemon's loop). With `since` (the
  // client's last resourceVersion) still in the recent history, and `epoch` (the client's
  // stateEpoch) empty or this state's, the stream resumes: a BOOKMARK at `since`, then the
  // changes after it; otherwise it starts with a SNAPSHOT.
  void subscribe(std::shared_ptr<http::Exchange> exchange, std::optional<uint64_t> since = {},
                 const std::string& epoch = {});
  // Ends every stream (shutdown).
  void close_all();
  // Streams open now (routers, duetctl get -w).
  std::size_t watchers() const { return watchers_.size(); }

 private:
  void send_line(const std::shared_ptr<http::Exchange>& watcher, const std::string& line);
  bool can_resume_from(uint64_t since) const;
  void remember(uint64_t version, std::string line);
  void schedule_bookmark();
  std::string bookmark(uint64_t version) const;
  void reserve_through(uint64_t version);

  boost::asio::steady_timer bookmark_timer_;
  SnapshotSource snapshot_source_;
  uint64_t version_ = 0;
  uint64_t reserved_ = 0;  // the checkpoint says no resourceVersion above this was handed out
  std::string epoch_;
  std::string node_;
  std::function<void()> persist_;
  std::vector<std::shared_ptr<http::Exchange>> watchers_;
  std::deque<std::pair<uint64_t, std::string>> history_;  // recent change lines, oldest first
  std::size_t history_bytes_ = 0;
  std::function<void()> on_publish_;
};

}  // namespace duet::daemon
