#pragma once
// Who changed what on this node (docs/node-api.md, "Audit"): every mutation the node API
// takes (apply, delete, rollout promote/abort/retry), carried out or refused, with its caller:
// `uid:N` on the unix socket (the kernel's word for the peer, SO_PEERCRED), `sub:NAME` on TCP
// (the verified token's subject). Each record is a journal line (event=audit) and an event
// that `duetctl get events` lists (GET /apis/v1/events); the last kKept stay in memory.

#include <chrono>
#include <cstddef>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>

namespace duet::daemon {

class AuditLog {
 public:
  static constexpr std::size_t kKept = 1000;

  // `objects`: [{kind, name, result?, resourceVersion?, generation?}] as far as known (an
  // apply refused before its manifests were read names none). `status` is the HTTP status
  // answered; `message` why it was refused, empty when it was not.
  void record(const std::string& caller, const std::string& action, nlohmann::json objects,
              int status, const std::string& message,
              std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

  // Oldest first, as events: type, reason (Applied, Deleted, RolloutPromoted... or
  // ApplyRefused, DeleteRefused...), user, action, objects, status, message, timestamp.
  nlohmann::json list() const { return records_; }

 private:
  std::deque<nlohmann::json> records_;
};

}  // namespace duet::daemon
