#include "daemon/api/audit_log.h"

#include <map>

#include "daemon/daemon_logger.h"
#include "daemon/event_log.h"

namespace duet::daemon {

namespace {

// "apply" → Applied, "rollout promote" → RolloutPromoted; a refusal: ApplyRefused...
std::string reason_of(const std::string& action, bool refused) {
  static const std::map<std::string, std::pair<std::string, std::string>> names = {
      {"apply", {"Applied", "ApplyRefused"}},
      {"delete", {"Deleted", "DeleteRefused"}},
      {"rollout promote", {"RolloutPromoted", "RolloutPromoteRefused"}},
      {"rollout abort", {"RolloutAborted", "RolloutAbortRefused"}},
      {"rollout retry", {"RolloutRetried", "RolloutRetryRefused"}}};
  auto it = names.find(action);
  if (it == names.end()) return refused ? "Refused" : "Changed";
  return refused ? it->second.second : it->second.first;
}

std::string object_list(const nlohmann::json& objects) {
  std::string out;
  for (const auto& o : objects) {
    if (!out.empty()) out += ",";
    out += o.value("kind", "") + "/" + o.value("name", "");
    if (o.contains("result")) out += "=" + o["result"].get<std::string>();
    if (o.contains("resourceVersion")) out += "@" + std::to_string(o["resourceVersion"].get<uint64_t>());
  }
  return out.empty() ? "-" : out;
}

}  // namespace

void AuditLog::record(const std::string& caller, const std::string& action, nlohmann::json objects,
                      int status, const std::string& message,
                      std::chrono::system_clock::time_point now) {
  bool refused = status >= 400;
  std::string user = caller.empty() ? "unknown" : caller;
  std::initializer_list<Field> fields = {{"user", user},
                                         {"action", action},
                                         {"objects", object_list(objects)},
                                         {"status", status},
                                         {"message", message.empty() ? "-" : message}};
  if (refused)
    audit_logger().warn("audit", fields);
  else
    audit_logger().info("audit", fields);
  records_.push_back({{"type", refused ? "Warning" : "Normal"},
                      {"reason", reason_of(action, refused)},
                      {"user", user},
                      {"action", action},
                      {"objects", std::move(objects)},
                      {"status", status},
                      {"message", message},
                      {"timestamp", rfc3339(now)}});
  if (records_.size() > kKept) records_.pop_front();
}

}  // namespace duet::daemon
