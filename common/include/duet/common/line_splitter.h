#pragma once
// Splits a byte stream that arrives in pieces into whole lines (NDJSON watch streams,
// SSE events read by tests and clients).

#include <string>
#include <string_view>
#include <vector>

namespace duet {

class LineSplitter {
 public:
  // Appends `data` and returns every line it completed, without the trailing "\n" or "\r\n".
  std::vector<std::string> feed(std::string_view data);
  // What is buffered of an unfinished line.
  std::string_view pending() const { return pending_; }

 private:
  std::string pending_;
};

}  // namespace duet
