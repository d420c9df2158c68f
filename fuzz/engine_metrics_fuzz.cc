// An engine's /metrics text as duet-router reads it for scheduling (router/engine_metrics.cc).
// Checks: it never throws or reads out of bounds (ASan); what it returns is usable as is —
// counts finite and >= 0, a KV share within 0..1; and a line's verdict does not depend on
// what comes before it: the text parsed whole equals the sum of its lines parsed one by one
// (the running and waiting counts add up, the KV share is the largest).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "router/engine_metrics.h"

namespace {

using duet::router::EngineMetrics;
using duet::router::parse_engine_metrics;

void check_usable(const EngineMetrics& m) {
  for (const auto& v : {m.running, m.waiting})
    if (v) DUET_FUZZ_CHECK(std::isfinite(*v) && *v >= 0, "a count that is not a finite number >= 0");
  if (m.kv_usage) DUET_FUZZ_CHECK(*m.kv_usage >= 0 && *m.kv_usage <= 1, "a KV share outside 0..1");
}

bool near(std::optional<double> a, std::optional<double> b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return std::fabs(*a - *b) <= 1e-9 * std::max({1.0, std::fabs(*a), std::fabs(*b)});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto whole = parse_engine_metrics(text);
  check_usable(whole);
  EngineMetrics by_line;
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = parse_engine_metrics(text.substr(0, eol));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.running) by_line.running = by_line.running.value_or(0) + *line.running;
    if (line.waiting) by_line.waiting = by_line.waiting.value_or(0) + *line.waiting;
    if (line.kv_usage) by_line.kv_usage = std::max(by_line.kv_usage.value_or(0), *line.kv_usage);
  }
  DUET_FUZZ_CHECK(near(whole.running, by_line.running), "running: whole text and lines disagree");
  DUET_FUZZ_CHECK(near(whole.waiting, by_line.waiting), "waiting: whole text and lines disagree");
  DUET_FUZZ_CHECK(near(whole.kv_usage, by_line.kv_usage), "kv: whole text and lines disagree");
  return 0;
}
