#include "router/engine_metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace duet::router {

namespace {

enum class Signal { none, running, waiting, kv_usage, kv_capacity, cache_config };

Signal signal_of(std::string_view name) {
  if (name == "vllm:num_requests_running" || name == "sglang:num_running_reqs" ||
      name == "llamacpp:requests_processing")
    return Signal::running;
  if (name == "vllm:num_requests_waiting" || name == "sglang:num_queue_reqs" ||
      name == "llamacpp:requests_deferred")
    return Signal::waiting;
  if (name == "vllm:kv_cache_usage_perc" || name == "vllm:gpu_cache_usage_perc" ||
      name == "sglang:token_usage" || name == "llamacpp:kv_cache_usage_ratio")
    return Signal::kv_usage;
  if (name == "sglang:max_total_num_tokens") return Signal::kv_capacity;
  if (name == "vllm:cache_config_info") return Signal::cache_config;
  return Signal::none;
}

std::optional<double> finite_non_negative(std::string_view number) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || ptr != number.data() + number.size() || !std::isfinite(value) || value < 0)
    return std::nullopt;
  return value;
}

// The number in label `key` of `{a="1",key="2"}` at the start of `rest`; nullopt when absent
// or not a plain number (an escape in the value makes it not one).
std::optional<double> label_number(std::string_view rest, std::string_view key) {
  if (rest.empty() || rest.front() != '{') return std::nullopt;
  auto end = rest.find('}');
  std::string_view labels = rest.substr(1, end == std::string_view::npos ? 0 : end - 1);
  while (!labels.empty()) {
    auto eq = labels.find("=\"");
    if (eq == std::string_view::npos) return std::nullopt;
    auto close = labels.find('"', eq + 2);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view name = labels.substr(0, eq);
    while (!name.empty() && (name.front() == ',' || name.front() == ' ')) name.remove_prefix(1);
    if (name == key) return finite_non_negative(labels.substr(eq + 2, close - eq - 2));
    labels.remove_prefix(close + 1);
  }
  return std::nullopt;
}

// The value of a sample line `name{labels} value [timestamp]`; nullopt when it is not a
// finite number >= 0.
std::optional<double> sample_value(std::string_view rest) {
  if (!rest.empty() && rest.front() == '{') {
    // Label values may hold spaces and braces inside quotes: skip to the closing brace.
    bool quoted = false;
    std::size_t i = 1;
    for (; i < rest.size(); ++i) {
      char c = rest[i];
      if (quoted && c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && c == '}') {
        break;
      }
    }
    if (i >= rest.size()) return std::nullopt;
    rest.remove_prefix(i + 1);
  }
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  auto end = rest.find(' ');
  return finite_non_negative(rest.substr(0, end));
}

void keep_largest(std::optional<double>& to, double value) { to = std::max(to.value_or(0), value); }

void add(std::optional<double>& to, double value) { to = to.value_or(0) + value; }

}  // namespace

EngineMetrics parse_engine_metrics(std::string_view text) {
  EngineMetrics m;
  text = text.substr(0, kMaxMetricsBytes);
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#' || line.size() > kMaxMetricsLine) continue;
    auto name_end = line.find_first_of("{ ");
    if (name_end == std::string_view::npos) continue;
    Signal signal = signal_of(line.substr(0, name_end));
    if (signal == Signal::none) continue;
    if (signal == Signal::cache_config) {  // a value of 1; the sizes are labels
      auto blocks = label_number(line.substr(name_end), "num_gpu_blocks");
      auto block_size = label_number(line.substr(name_end), "block_size");
      if (blocks && block_size) keep_largest(m.kv_capacity_tokens, std::min(*blocks * *block_size, 1e12));
      continue;
    }
    auto value = sample_value(line.substr(name_end));
    if (!value) continue;
    if (signal == Signal::running) add(m.running, *value);
    if (signal == Signal::waiting) add(m.waiting, *value);
    if (signal == Signal::kv_usage) keep_largest(m.kv_usage, std::min(*value, 1.0));
    if (signal == Signal::kv_capacity) keep_largest(m.kv_capacity_tokens, std::min(*value, 1e12));
  }
  return m;
}

}  // namespace duet::router
