// `duetctl describe deployment NAME`: the deployment, its replicas and its events, laid out
// like `kubectl describe`.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <utility>

#include "daemon/ctl/api_call.h"
#include "daemon/ctl/commands.h"
#include "daemon/ctl/rollout_summary.h"
#include "daemon/ctl/table.h"
#include "deviceplugin/device_report.h"
#include "duet/api/engine_status.h"

namespace duet::ctl {

using nlohmann::json;
namespace bhttp = http::bhttp;

namespace {

std::time_t parse_rfc3339(const std::string& text) {
  std::tm tm{};
  if (!::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
  return ::timegm(&tm);
}

// kubectl's short ages: 45s, 3m, 2h, 4d.
std::string age_since(std::time_t then) {
  auto s = std::max<long>(0, static_cast<long>(std::time(nullptr) - then));
  if (s < 120) return std::to_string(s) + "s";
  if (s < 2 * 3600) return std::to_string(s / 60) + "m";
  if (s < 2 * 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

void field(const std::string& name, const std::string& value) {
  std::cout << name << ":" << std::string(name.size() < 15 ? 15 - name.size() : 1, ' ') << value << "\n";
}

std::string joined(const json& list, const char* separator = " ") {
  std::string out;
  for (const auto& item : list)
    out += (out.empty() ? "" : separator) + (item.is_string() ? item.get<std::string>() : item.dump());
  return out;
}

void print_overview(const json& d) {
  const auto& meta = d["metadata"];
  const auto& spec = d["spec"];
  auto status = api::parse_deployment_view(d).status;
  std::string labels;
  auto label_map = meta.value("labels", json::object());  // items() of a temporary would dangle
  for (const auto& [k, v] : label_map.items())
    labels += (labels.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  field("Name", meta["name"]);
  field("Labels", labels.empty() ? "<none>" : labels);
  field("RuntimeClass", spec["runtimeClassName"]);
  field("Version", spec["version"]);
  field("Replicas", std::to_string(spec["replicas"].get<int>()) + " desired | " +
                        std::to_string(status.replicas) + " running | " +
                        std::to_string(status.ready_replicas) + " ready");
  field("Devices", std::to_string(spec["resources"]["devices"].get<int>()) + " per replica");
  field("Strategy", spec["strategy"].value("type", "Canary"));
  if (status.rollout) field("Rollout", rollout_summary(*status.rollout));
  field("Command", joined(spec["template"]["command"]));
  field("Generation", std::to_string(meta["generation"].get<int64_t>()) + " (observed " +
                          std::to_string(status.observed_generation) + ")");
}

void print_replicas(const json& engines, const std::string& deployment) {
  std::cout << "Replicas:\n";
  Table t({"  NAME", "STATE", "RESTARTS", "ENDPOINT", "PID", "DEVICES", "CPU", "MEMORY", "MESSAGE"});
  for (const auto& item : engines) {
    auto e = api::parse_engine_status(item);
    if (e.deployment != deployment) continue;
    auto message = e.message;
    std::string state(api::to_string(e.state));
    if (e.state == api::EngineState::draining && !message.empty())  // Draining (3 in flight, 41 s left)
      state += " (" + std::exchange(message, {}) + ")";
    if (message.empty() && !e.last_exit.empty()) message = "last exit: " + e.last_exit;
    // From the replica's cgroup; "-" where the kernel does not count it (no memory controller).
    char cpu_text[32] = "-";
    if (e.usage.cpu_seconds) std::snprintf(cpu_text, sizeof cpu_text, "%.1fs", *e.usage.cpu_seconds);
    std::string memory = e.usage.memory_bytes ? deviceplugin::format_memory(*e.usage.memory_bytes) : "-";
    std::string devices;
    for (const auto& id : e.devices) devices += (devices.empty() ? "" : ",") + id;
    t.add({"  " + e.name, state, std::to_string(e.restarts), e.endpoint,
           std::to_string(e.pid), devices.empty() ? "-" : devices, cpu_text, memory, message});
  }
  t.print(std::cout);
}

void print_events(const json& events) {
  std::cout << "Events:\n";
  if (events.empty()) {
    std::cout << "  <none>\n";
    return;
  }
  Table t({"  TYPE", "REASON", "AGE", "OBJECT", "MESSAGE"});
  for (const auto& e : events) {
    auto age = age_since(parse_rfc3339(e["lastTimestamp"]));
    if (e["count"].get<int>() > 1)
      age += " (x" + std::to_string(e["count"].get<int>()) + " over " +
             age_since(parse_rfc3339(e["firstTimestamp"])) + ")";
    t.add({"  " + e["type"].get<std::string>(), e["reason"], age, e["object"], e["message"]});
  }
  t.print(std::cout);
}

}  // namespace

int describe(const Context& ctx, const std::string& resource, const std::string& name) {
  if (resource != "deployment" && resource != "deployments" && resource != "deploy")
    throw UsageError("describe supports deployment NAME");
  if (name.empty()) throw UsageError("describe needs a name");
  try {
    auto deployment = call(ctx, bhttp::verb::get, api_target({"deployments", name}));
    auto engines = call(ctx, bhttp::verb::get, api_target({"engines"}));
    auto events = call(ctx, bhttp::verb::get, api_target({"deployments", name, "events"}));
    print_overview(deployment);
    print_replicas(engines["items"], name);
    print_events(events["items"]);
  } catch (const ApiFailure& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace duet::ctl
