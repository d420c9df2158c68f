#pragma once
// Server-sent events as the OpenAI API streams them: each JSON chunk is one
// `data: {json}\n\n` event, and the stream ends with `data: [DONE]\n\n`.

#include <string>
#include <string_view>

namespace duet::sim {

inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";
inline constexpr std::string_view kSseContentType = "text/event-stream";

// Appends one event carrying `data` (a single line of JSON) to `out`.
void append_sse_event(std::string& out, std::string_view data);

inline std::string sse_event(std::string_view data) {
  std::string out;
  append_sse_event(out, data);
  return out;
}

}  // namespace duet::sim
