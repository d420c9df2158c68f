#pragma once
// What systemd does for Type=notify: a datagram socket bound to a path, named to the service
// by NOTIFY_SOCKET, on which tests read READY=1, STATUS=, WATCHDOG=1...

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace duet::test {

class FakeNotifySocket {
 public:
  explicit FakeNotifySocket(const std::filesystem::path& path);
  ~FakeNotifySocket();
  FakeNotifySocket(const FakeNotifySocket&) = delete;
  FakeNotifySocket& operator=(const FakeNotifySocket&) = delete;

  // The next datagram, or nothing within `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // Reads datagrams until one contains `text` (returned) or `timeout` passes (nullopt).
  std::optional<std::string> receive_containing(const std::string& text,
                                                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  int fd_ = -1;
};

}  // namespace duet::test
