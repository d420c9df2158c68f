#include "daemon/port_allocator.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/child_process.h"

namespace duet::daemon {
namespace {

TEST(PortAllocator, ParsesRanges) {
  EXPECT_NO_THROW(PortAllocator::parse("20000-20999"));
  EXPECT_THROW(PortAllocator::parse("20000"), std::invalid_argument);
  EXPECT_THROW(PortAllocator::parse("2-1"), std::invalid_argument);
  EXPECT_THROW(PortAllocator::parse("0-10"), std::invalid_argument);
}

TEST(PortAllocator, SkipsTakenAndBusyPorts) {
  // Hold a listening socket on the first port of a range: it must never be handed out.
  uint16_t busy = test::free_port();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(busy);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::listen(fd, 1);
  PortAllocator ports(busy, static_cast<uint16_t>(busy + 2));
  ports.reserve(static_cast<uint16_t>(busy + 1));
  auto got = ports.allocate();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, busy + 2);
  EXPECT_FALSE(ports.allocate());
  ports.release(*got);
  EXPECT_EQ(ports.allocate(), got);
  ::close(fd);
}

}  // namespace
}  // namespace duet::daemon
