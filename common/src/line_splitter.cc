#include "duet/common/line_splitter.h"

namespace duet {

std::vector<std::string> LineSplitter::feed(std::string_view data) {
  std::vector<std::string> lines;
  // Only the new bytes can hold a line end: a long line that comes in many pieces is
  // searched once, not once per piece.
  std::size_t scanned = pending_.size();
  pending_.append(data);
  std::size_t start = 0;
  for (auto nl = pending_.find('\n', scanned); nl != std::string::npos;
       nl = pending_.find('\n', start)) {
    std::size_t end = nl;
    if (end > start && pending_[end - 1] == '\r') --end;
    lines.emplace_back(pending_, start, end - start);
    start = nl + 1;
  }
  pending_.erase(0, start);
  return lines;
}

}  // namespace duet
