#include "deviceplugin/device_report.h"

#include <algorithm>
#include <cstdio>

#include "deviceplugin/device_json.h"

namespace duet::deviceplugin {

namespace {

using Row = std::vector<std::string>;

std::string render_rows(const std::vector<Row>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string format_memory(std::uint64_t bytes) {
  if (bytes == 0) return "-";
  constexpr double kGi = 1024.0 * 1024 * 1024, kMi = 1024.0 * 1024;
  char buf[32];
  double v = static_cast<double>(bytes);
  if (v >= kGi)
    std::snprintf(buf, sizeof buf, "%.4gGi", v / kGi);
  else
    std::snprintf(buf, sizeof buf, "%.4gMi", v / kMi);
  return buf;
}

std::string render_table(const std::vector<PluginReport>& reports) {
  std::vector<Row> devices{{"KIND", "ID", "MODEL", "MEMORY", "NUMA", "HEALTH", "REASON"}};
  std::vector<Row> sources{{"HANDLER", "SOURCE", "DEVICES", "DETAIL"}};
  for (const auto& r : reports) {
    sources.push_back(
        {r.handler, r.source.name, std::to_string(r.devices.size()), r.source.detail});
    for (const auto& d : r.devices)
      devices.push_back({d.kind, d.id, d.model, format_memory(d.memory_bytes),
                         d.numa_node >= 0 ? std::to_string(d.numa_node) : "-",
                         std::string(to_string(d.health.state)), d.health.reason});
  }
  return render_rows(devices) + "\n" + render_rows(sources);
}

std::string render_json(const std::vector<PluginReport>& reports) {
  nlohmann::json plugins = nlohmann::json::array();
  for (const auto& r : reports) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& d : r.devices) devices.push_back(to_json(d));
    auto entry = to_json(r.source);
    entry["handler"] = r.handler;
    entry["devices"] = std::move(devices);
    plugins.push_back(std::move(entry));
  }
  return nlohmann::json{{"plugins", std::move(plugins)}}.dump(2) + "\n";
}

}  // namespace duet::deviceplugin
