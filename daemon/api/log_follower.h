#pragma once
// `GET /apis/v1/engines/NAME/logs[?follow=true&tailLines=N]`: a replica's log file, and with
// follow, what it writes after, as it comes (like `kubectl logs -f`). A file that shrank was
// rotated (copytruncate), and is read again from its start.

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>

#include "duet/common/http_server.h"

namespace duet::daemon {

class LogFollower : public std::enable_shared_from_this<LogFollower> {
 public:
  // Answers `exchange` with the file at `path` (the last `tail_lines` lines when given).
  static void serve(std::shared_ptr<http::Exchange> exchange, std::string path, bool follow,
                    std::optional<uint64_t> tail_lines);

  LogFollower(std::shared_ptr<http::Exchange> exchange, std::string path, uint64_t offset);

 private:
  void poll();
  void send_new_bytes();

  std::shared_ptr<http::Exchange> exchange_;
  std::string path_;
  uint64_t offset_;
  boost::asio::steady_timer timer_;
};

}  // namespace duet::daemon
