#include "bench_util.h"

#include <time.h>

#include <algorithm>

namespace duet::bench {

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int64_t event_stamp_ns(std::string_view payload) {
  auto at = payload.find("\"t\":");
  if (at == std::string_view::npos) return -1;
  int64_t stamp = 0;
  for (auto i = at + 4; i < payload.size() && payload[i] >= '0' && payload[i] <= '9'; ++i)
    stamp = stamp * 10 + (payload[i] - '0');
  return stamp;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

std::vector<std::string> SseReader::feed(std::string_view piece) {
  std::vector<std::string> data;
  for (auto& line : lines_.feed(piece)) {
    if (!line.starts_with("data:")) continue;  // blank separators, comments, event names
    std::size_t from = line.size() > 5 && line[5] == ' ' ? 6 : 5;
    data.push_back(line.substr(from));
  }
  return data;
}

}  // namespace duet::bench
