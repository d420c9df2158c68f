#pragma once
// What happened to each deployment and its replicas, as Kubernetes events: type (Normal or
// Warning), reason (Scheduled, Started, Ready, Unhealthy, BackOff, Killing...), message, and
// a count with first and last time when the same event repeats. `duetctl describe` shows it.

#include <chrono>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace duet::daemon {

// "2026-11-25T18:37:30Z", as Kubernetes writes times.
std::string rfc3339(std::chrono::system_clock::time_point t);

class EventLog {
 public:
  void normal(const std::string& deployment, const std::string& object, const std::string& reason,
              const std::string& message) {
    record(deployment, object, "Normal", reason, message);
  }
  void warning(const std::string& deployment, const std::string& object, const std::string& reason,
               const std::string& message) {
    record(deployment, object, "Warning", reason, message);
  }
  // Drops a deployment's events: a new deployment of the same name starts with none, as a
  // new Kubernetes object (new uid) does.
  void forget(const std::string& deployment) { by_deployment_.erase(deployment); }
  // Oldest first; an empty array for a deployment without events.
  nlohmann::json list(const std::string& deployment) const;

 private:
  struct Event {
    std::string type, reason, object, message;
    int count = 1;
    std::chrono::system_clock::time_point first, last;
  };
  void record(const std::string& deployment, const std::string& object, const std::string& type,
              const std::string& reason, const std::string& message);

  std::map<std::string, std::deque<Event>> by_deployment_;
};

}  // namespace duet::daemon
