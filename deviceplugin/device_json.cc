#include "deviceplugin/device_json.h"

namespace duet::deviceplugin {

nlohmann::json to_json(const Device& d) {
  // Unknown numbers are null rather than -1 so a reader cannot mistake them for real values.
  auto maybe = [](int v) { return v >= 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"kind", d.kind},
          {"id", d.id},
          {"index", maybe(d.index)},
          {"model", d.model},
          {"memoryBytes", d.memory_bytes},
          {"numaNode", maybe(d.numa_node)},
          {"pciBusId", d.pci_bus_id},
          {"uuid", d.uuid},
          {"health", std::string(to_string(d.health.state))},
          {"reason", d.health.reason},
          {"logicalId", maybe(d.logical_id)},
          {"deviceNodes", d.device_nodes},
          {"attributes", d.attributes}};
}

nlohmann::json to_json(const Allocation& a) {
  return {{"deviceIds", a.device_ids},
          {"env", a.env},
          {"deviceNodes", a.device_nodes},
          {"cpus", a.cpus},
          {"numaNode", a.numa_node >= 0 ? nlohmann::json(a.numa_node) : nlohmann::json(nullptr)}};
}

nlohmann::json to_json(const DiscoverySource& s) {
  return {{"source", s.name}, {"detail", s.detail}};
}

}  // namespace duet::deviceplugin
