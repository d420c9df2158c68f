#include "daemon/daemon_metrics.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <tuple>

namespace duet::daemon {

namespace {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

prometheus::ClientMetric sample(std::vector<prometheus::ClientMetric::Label> labels, double value,
                                prometheus::MetricType type) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  return m;
}

}  // namespace

std::string DaemonMetrics::render() const {
  using prometheus::MetricType;
  auto devices = family("duet_devices", "Devices by kind and health.", MetricType::Gauge);
  for (const auto& [key, count] : devices_.counts())
    devices.metric.push_back(sample({{"kind", key.first}, {"health", key.second}}, count, MetricType::Gauge));

  auto replicas = family("duet_engine_replicas", "Engine replicas by deployment, version and state.",
                         MetricType::Gauge);
  auto restarts = family("duet_engine_restarts_total", "Engine process restarts since duetd started.",
                         MetricType::Counter);
  // Per replica, from its cgroup, where the kernel counts it (memory needs the controller).
  auto cpu = family("duet_engine_cpu_seconds_total", "CPU time of each replica's processes (its cgroup).",
                    MetricType::Counter);
  auto memory = family("duet_engine_memory_bytes", "Memory of each replica's processes (its cgroup).",
                       MetricType::Gauge);
  std::map<std::tuple<std::string, std::string, std::string>, int> by_state;
  for (const auto& e : reconciler_.engines()) {
    ++by_state[{e.deployment, e.version, std::string(api::to_string(e.state))}];
    std::vector<prometheus::ClientMetric::Label> labels = {{"deployment", e.deployment}, {"engine", e.name}};
    if (e.usage.cpu_seconds) cpu.metric.push_back(sample(labels, *e.usage.cpu_seconds, MetricType::Counter));
    if (e.usage.memory_bytes)
      memory.metric.push_back(sample(labels, static_cast<double>(*e.usage.memory_bytes), MetricType::Gauge));
  }
  for (const auto& [key, count] : by_state)
    replicas.metric.push_back(sample({{"deployment", std::get<0>(key)}, {"version", std::get<1>(key)},
                                      {"state", std::get<2>(key)}},
                                     count, MetricType::Gauge));
  for (const auto& [deployment, count] : reconciler_.restart_totals())
    restarts.metric.push_back(sample({{"deployment", deployment}}, count, MetricType::Counter));
  auto weight = family("duet_rollout_weight", "Percent of requests routers send to the canary.",
                       MetricType::Gauge);
  auto phases = family("duet_rollout_phase", "1 for the phase each deployment's rollout is in.",
                       MetricType::Gauge);
  for (const auto& [deployment, current] : rollouts_.phases()) {
    weight.metric.push_back(sample({{"deployment", deployment}}, rollouts_.weight(deployment), MetricType::Gauge));
    for (auto p : api::kRolloutPhases)
      phases.metric.push_back(sample({{"deployment", deployment}, {"phase", std::string(api::to_string(p))}},
                                     current == p ? 1 : 0, MetricType::Gauge));
  }
  return prometheus::TextSerializer().Serialize({devices, replicas, restarts, cpu, memory, weight, phases});
}

}  // namespace duet::daemon
