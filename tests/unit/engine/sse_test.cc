#include "sim/sse.h"

#include <gtest/gtest.h>

namespace duet::sim {
namespace {

TEST(Sse, EachChunkIsOneDataEvent) { EXPECT_EQ(sse_event(R"({"a":1})"), "data: {\"a\":1}\n\n"); }

TEST(Sse, EventsAppendBackToBack) {
  std::string out = "data: x\n\n";
  append_sse_event(out, "{}");
  out.append(kSseDone);
  EXPECT_EQ(out, "data: x\n\ndata: {}\n\ndata: [DONE]\n\n");
}

TEST(Sse, DoneMarkerAndContentTypeMatchOpenAi) {
  EXPECT_EQ(kSseDone, "data: [DONE]\n\n");
  EXPECT_EQ(kSseContentType, "text/event-stream");
}

}  // namespace
}  // namespace duet::sim
