#include "router/recycling_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstdint>
#include <thread>
#include <vector>

namespace duet::router {
namespace {

using Allocator = RecyclingAllocator<char, 4096>;

TEST(RecyclingAllocator, AFreedBlockOfItsSizeServesTheNextAllocationOnTheSameThread) {
  Allocator allocator;
  char* block = allocator.allocate(4096);
  allocator.deallocate(block, 4096);
  EXPECT_EQ(allocator.allocate(4096), block);
  allocator.deallocate(block, 4096);

  // Other sizes are the heap's: a freed one does not come back for the block size.
  char* other = allocator.allocate(100);
  allocator.deallocate(other, 100);
  char* again = allocator.allocate(4096);
  EXPECT_EQ(again, block);
  allocator.deallocate(again, 4096);

  // Another thread keeps its own.
  std::thread([&] {
    char* theirs = Allocator{}.allocate(4096);
    EXPECT_NE(theirs, block);
    Allocator{}.deallocate(theirs, 4096);
  }).join();
}

TEST(RecyclingAllocator, KeepsAtMostItsBoundAndHandsEachBlockOutOnce) {
  using Own = RecyclingAllocator<char, 2048>;  // a size no other test uses: none kept yet
  Own allocator;
  std::vector<char*> blocks;
  for (std::size_t i = 0; i < 2 * Own::kKept; ++i) blocks.push_back(allocator.allocate(2048));
  for (char* b : blocks) allocator.deallocate(b, 2048);
  // The first kKept freed are kept, the rest went back to the heap: allocating kKept blocks
  // gives those, each once.
  std::vector<std::uintptr_t> back, kept;
  for (std::size_t i = 0; i < Own::kKept; ++i)
    back.push_back(reinterpret_cast<std::uintptr_t>(allocator.allocate(2048)));
  for (std::size_t i = 0; i < Own::kKept; ++i)
    kept.push_back(reinterpret_cast<std::uintptr_t>(blocks[i]));
  std::sort(back.begin(), back.end());
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(back, kept);
  for (auto b : back) allocator.deallocate(reinterpret_cast<char*>(b), 2048);
}

TEST(RecyclingAllocator, ABufferFreedWhenIdleTakesTheSameBlockForTheNextRead) {
  boost::beast::basic_flat_buffer<Allocator> buffer;
  auto first = buffer.prepare(4096);
  buffer.commit(10);
  buffer.consume(10);
  buffer.shrink_to_fit();  // idle: the connection holds no buffer
  EXPECT_EQ(buffer.capacity(), 0u);
  auto second = buffer.prepare(4096);
  EXPECT_EQ(second.data(), first.data());
}

}  // namespace
}  // namespace duet::router
