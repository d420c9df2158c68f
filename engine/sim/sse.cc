#include "sim/sse.h"

namespace duet::sim {

void append_sse_event(std::string& out, std::string_view data) {
  out.reserve(out.size() + data.size() + 8);
  out.append("data: ").append(data).append("\n\n");
}

}  // namespace duet::sim
