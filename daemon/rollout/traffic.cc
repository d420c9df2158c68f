#include "daemon/rollout/traffic.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "duet/api/field_reader.h"
#include "duet/common/http_error.h"

namespace duet::daemon {

using nlohmann::json;

uint64_t error_total(const TrafficCounts& counts) {
  uint64_t total = 0;
  for (const auto& [kind, count] : counts.errors) total += count;
  return total;
}

double success_rate(const TrafficCounts& counts) {
  if (counts.requests == 0) return 1;
  auto failed = std::min(error_total(counts), counts.requests);
  return static_cast<double>(counts.requests - failed) / static_cast<double>(counts.requests);
}

namespace {

std::optional<double> histogram_quantile_ms(const std::vector<double>& bounds,
                                            const std::vector<uint64_t>& buckets, double q) {
  if (buckets.size() != bounds.size() + 1) return std::nullopt;
  uint64_t total = 0;
  for (auto c : buckets) total += c;
  if (total == 0) return std::nullopt;
  double rank = q * static_cast<double>(total);
  uint64_t below = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (static_cast<double>(below + buckets[i]) < rank) {
      below += buckets[i];
      continue;
    }
    if (i == bounds.size()) return bounds.empty() ? std::nullopt : std::optional(bounds.back() * 1000);
    double lower = i == 0 ? 0 : bounds[i - 1];
    double share = (rank - static_cast<double>(below)) / static_cast<double>(buckets[i]);
    return (lower + (bounds[i] - lower) * share) * 1000;
  }
  return bounds.back() * 1000;
}

// Adds `other`'s buckets to `sum`'s when both count over the same bounds.
void add_buckets(std::vector<uint64_t>& sum, const std::vector<uint64_t>& other) {
  if (other.empty()) return;
  if (sum.empty()) sum.assign(other.size(), 0);
  if (sum.size() != other.size()) return;
  for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += other[i];
}

}  // namespace

std::optional<double> quantile_ms(const TrafficCounts& counts, double q) {
  return histogram_quantile_ms(counts.bounds, counts.buckets, q);
}

std::optional<double> duration_quantile_ms(const TrafficCounts& counts, double q) {
  return histogram_quantile_ms(counts.bounds, counts.duration_buckets, q);
}

void add_counts(TrafficCounts& sum, const TrafficCounts& other) {
  sum.requests += other.requests;
  for (const auto& [kind, count] : other.errors) sum.errors[kind] += count;
  if (other.bounds.empty()) return;
  if (sum.bounds.empty()) sum.bounds = other.bounds;
  if (sum.bounds != other.bounds) return;
  add_buckets(sum.buckets, other.buckets);
  add_buckets(sum.duration_buckets, other.duration_buckets);
}

api::TrafficReport parse_traffic_report(const json& body) {
  try {
    return api::parse_traffic_report(body);
  } catch (const api::FieldError& e) {
    throw HttpError(400, e.what(), e.path());
  }
}

void TrafficLedger::add(const TrafficSample& sample) {
  if (sample.track == api::Track::canary) add_counts(canary_[sample.deployment][sample.version], sample.counts);
}

TrafficCounts TrafficLedger::take(const std::string& deployment, const std::string& version) {
  TrafficCounts out;
  auto it = canary_.find(deployment);
  if (it == canary_.end()) return out;
  for (const auto& [sample_version, counts] : it->second)
    if (sample_version == version || sample_version.empty()) add_counts(out, counts);
  canary_.erase(it);
  return out;
}

}  // namespace duet::daemon
